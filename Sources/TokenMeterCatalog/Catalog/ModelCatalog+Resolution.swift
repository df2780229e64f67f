/// How a requested name was matched to a catalog entry.
public enum ModelMatch: Sendable, Equatable {
    /// The entry's own name.
    case name
    /// One of the entry's aliases.
    case alias
    /// A dated snapshot (`gpt-4o-2024-11-20`, `gpt-4-0613`) with no entry of its own, priced as its
    /// base model (the name with the date removed).
    case snapshot(base: String)
    /// An Ollama tag (`llama3.1:70b`, `qwen2.5:latest`) with no entry of its own, counted as the
    /// untagged model.
    case tag(base: String)
}

/// A model name resolved against the catalog.
public struct ResolvedModel: Sendable, Equatable {
    /// The name as the user or request gave it.
    public let requested: String
    /// The entry it resolved to.
    public let model: CatalogModel
    /// How.
    public let match: ModelMatch
}

extension ModelCatalog {
    /// Resolves `name` by these rules, first match wins:
    /// 1. an entry's name or alias, ignoring case (so `gpt-4o-2024-05-13`, which has its own
    ///    prices, resolves to its own entry);
    /// 2. a dated snapshot: a trailing `-YYYY-MM-DD` or `-MMDD` is removed and the rest resolved by
    ///    rule 1 (`gpt-4o-2024-08-06` → `gpt-4o`, `gpt-3.5-turbo-0125` → `gpt-3.5-turbo`);
    /// 3. an Ollama tag: the part from the last `:` on is removed and the rest resolved by rules 1–2
    ///    (`llama3.1:8b` → `llama3.1`).
    /// Otherwise throws `CatalogError.unknownModel` with the three closest names by edit distance.
    public func resolve(_ name: String) throws(CatalogError) -> ResolvedModel {
        if let r = resolveWithoutTag(name) { return r }
        if let colon = name.lastIndex(of: ":"), colon != name.startIndex {
            let base = String(name[..<colon])
            if let r = resolveWithoutTag(base) {
                return ResolvedModel(requested: name, model: r.model, match: .tag(base: r.model.name))
            }
        }
        throw .unknownModel(name: name, suggestions: closestNames(to: name))
    }

    private func resolveWithoutTag(_ name: String) -> ResolvedModel? {
        if let m = model(named: name) {
            return ResolvedModel(requested: name, model: m, match: m.name.lowercased() == name.lowercased() ? .name : .alias)
        }
        if let base = ModelCatalog.snapshotBase(of: name), let m = model(named: base) {
            return ResolvedModel(requested: name, model: m, match: .snapshot(base: m.name))
        }
        return nil
    }

    /// `name` without a trailing snapshot date (`-2024-08-06` or `-0613`), or nil when it has none.
    static func snapshotBase(of name: String) -> String? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        func isDigits(_ s: Substring, _ n: Int) -> Bool { s.count == n && s.allSatisfy { $0.isASCII && $0.isNumber } }
        if parts.count >= 4 {
            let y = parts[parts.count - 3], m = parts[parts.count - 2], d = parts[parts.count - 1]
            if isDigits(y, 4), isDigits(m, 2), isDigits(d, 2), (1...12).contains(Int(m)!), (1...31).contains(Int(d)!) {
                return parts.dropLast(3).joined(separator: "-")
            }
        }
        if parts.count >= 2, let last = parts.last, isDigits(last, 4) {
            let month = Int(last.prefix(2))!, day = Int(last.suffix(2))!
            if (1...12).contains(month), (1...31).contains(day) { return parts.dropLast().joined(separator: "-") }
        }
        return nil
    }

    /// Up to `limit` catalog names and aliases closest to `name` by Levenshtein distance (ignoring
    /// case), nearest first, ties broken alphabetically.
    public func closestNames(to name: String, limit: Int = 3) -> [String] {
        EditDistance.closest(to: name, among: allNames, limit: limit)
    }
}
