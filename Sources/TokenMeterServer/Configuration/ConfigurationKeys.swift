import TokenMeterCatalog
import Yams

/// The keys one mapping of the configuration file allows, and those of the mappings nested in it. A key the
/// server does not know is refused at start with its line and the closest known key: a misspelt `databse:` or
/// `bse_url:` would otherwise be ignored and the server start with a default.
struct ConfigurationKeys: Sendable {
    /// The keys this mapping allows, in the order the messages list them.
    let allowed: [String]
    /// For keys whose value is a mapping or a sequence of mappings: the keys those allow.
    let nested: [String: ConfigurationKeys]

    /// The keys of `keys`' cases.
    init<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type, nested: [String: ConfigurationKeys] = [:]) {
        allowed = keys.allCases.map(\.stringValue)
        self.nested = nested
    }

    /// Throws for the first key of `node` or of a mapping nested in it that is not allowed. `path` is where
    /// `node` is in the file (`upstreams[0]`; empty at the top), `origin` the file's name.
    func check(_ node: Node, path: String, origin: String) throws(ConfigurationError) {
        guard let mapping = node.mapping else { return }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            // A YAML merge key (`<<: *defaults`) brings in another mapping's keys: those are checked instead.
            if key == "<<" {
                for merged in value.sequence.map(Array.init) ?? [value] { try check(merged, path: path, origin: origin) }
                continue
            }
            guard allowed.contains(key) else { throw unknown(key, at: keyNode.mark, path: path, origin: origin) }
            guard let inner = nested[key] else { continue }
            let innerPath = path.isEmpty ? key : "\(path).\(key)"
            if let items = value.sequence {
                for (index, item) in items.enumerated() { try inner.check(item, path: "\(innerPath)[\(index)]", origin: origin) }
            } else {
                try inner.check(value, path: innerPath, origin: origin)
            }
        }
    }

    /// The error for `key`: file and line, where it is, and the closest allowed key when one is near enough
    /// to be a misspelling (at most a third of the key's letters differ, or two), else every allowed key.
    private func unknown(_ key: String, at mark: Mark?, path: String, origin: String) -> ConfigurationError {
        let location = mark.map { "\(origin):\($0.line)" } ?? origin
        let place = path.isEmpty ? "" : " in \(path)"
        let hint: String
        if let near = EditDistance.closest(to: key, among: allowed, limit: 1, maxDistance: max(2, key.count / 3)).first {
            hint = "did you mean '\(near)'?"
        } else {
            hint = "the keys allowed here are \(allowed.joined(separator: ", "))"
        }
        return ConfigurationError("\(location): unknown configuration key '\(key)'\(place); \(hint)")
    }
}
