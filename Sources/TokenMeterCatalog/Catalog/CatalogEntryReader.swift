import TokenMeterMoney
import TokenMeterJSON

/// Reads the members of one JSON object of a catalog file, turning every problem into a
/// `CatalogError.invalidField` that names the file, the entry and the dotted field path.
///
/// Members whose key starts with `_` are comments and ignored; any other unknown member is an error
/// (a misspelt `"pirce"` must not silently leave a model unpriced).
struct CatalogEntryReader {
    let members: JSONObject
    /// File name or "bundled catalog".
    let origin: String
    /// e.g. `models[3] "gpt-4o"`; empty at the top level.
    let entry: String
    /// Dotted path of this object inside the entry, e.g. `"price."`; empty for the entry itself.
    let prefix: String

    init(_ value: JSONValue, origin: String, entry: String, prefix: String, field: String) throws(CatalogError) {
        guard case .object(let members) = value else {
            throw CatalogError.invalidField(origin: origin, entry: entry, field: field.isEmpty ? "(entry)" : field,
                                            problem: "expected an object, found \(value.typeName)")
        }
        self.members = members
        self.origin = origin
        self.entry = entry
        self.prefix = prefix
    }

    func fail(_ key: String, _ problem: String) -> CatalogError {
        .invalidField(origin: origin, entry: entry, field: prefix + key, problem: problem)
    }

    /// Throws for the first member not in `allowed` (and not a `_comment`).
    func rejectUnknownKeys(_ allowed: [String]) throws(CatalogError) {
        for m in members where !m.key.hasPrefix("_") && !allowed.contains(m.key) {
            throw fail(m.key, "unknown field; expected one of \(allowed.joined(separator: ", "))")
        }
    }

    func has(_ key: String) -> Bool { members.contains { $0.key == key } }

    func value(_ key: String) -> JSONValue? { members[key] }

    func isNull(_ key: String) -> Bool { value(key) == .null }

    /// A non-empty string, or nil when absent. `null` is refused unless `nullable`, which then reads
    /// as absent too (check `isNull` to tell them apart).
    func string(_ key: String, nullable: Bool = false) throws(CatalogError) -> String? {
        guard let v = value(key) else { return nil }
        if v == .null, nullable { return nil }
        guard case .string(let s) = v else { throw fail(key, "expected a string, found \(v.typeName)") }
        guard !s.trimmed(of: " \t\n").isEmpty else { throw fail(key, "must not be empty") }
        return s
    }

    func requiredString(_ key: String) throws(CatalogError) -> String {
        guard let s = try string(key) else { throw fail(key, "missing (required)") }
        return s
    }

    /// A whole number within `range`, or nil when absent.
    func int(_ key: String, in range: ClosedRange<Int>) throws(CatalogError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let n = v.integerValue else {
            throw fail(key, "expected a whole number, found \(v.typeName)\(numberText(v))")
        }
        guard range.contains(n) else { throw fail(key, "\(n) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return n
    }

    func requiredInt(_ key: String, in range: ClosedRange<Int>) throws(CatalogError) -> Int {
        guard let n = try int(key, in: range) else { throw fail(key, "missing (required)") }
        return n
    }

    /// `true` or `false`, or nil when absent.
    func bool(_ key: String) throws(CatalogError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw fail(key, "expected true or false, found \(v.typeName)\(numberText(v))") }
        return b
    }

    /// An array of non-empty strings, or nil when absent.
    func stringArray(_ key: String) throws(CatalogError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw fail(key, "expected an array of strings, found \(v.typeName)") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, !s.isEmpty else {
                throw fail("\(key)[\(i)]", "expected a non-empty string, found \(item.typeName)")
            }
            out.append(s)
        }
        return out
    }

    /// A nested object reader, or nil when absent or null.
    func object(_ key: String) throws(CatalogError) -> CatalogEntryReader? {
        guard let v = value(key), v != .null else { return nil }
        return try CatalogEntryReader(v, origin: origin, entry: entry, prefix: prefix + key + ".", field: prefix + key)
    }

    /// A decimal amount in USD per 1M tokens, written as a string (`"2.50"`) or a plain JSON number
    /// (`2.50`, kept exact as written); converted exactly to pico-dollars per token.
    func pricePerMillion(_ key: String) throws(CatalogError) -> Money? {
        guard let v = value(key) else { return nil }
        let text: String
        switch v {
        case .string(let s): text = s
        case .number(let s): text = s
        default: throw fail(key, "expected a price in USD per 1M tokens such as \"2.50\", found \(v.typeName)")
        }
        guard !text.hasPrefix("-") else { throw fail(key, "price \(text) is negative") }
        do {
            return try Money(perMillionTokens: text)
        } catch {
            throw fail(key, "\"\(text)\" is not an exact USD-per-1M-tokens price (\(error)); write e.g. \"0.075\"")
        }
    }

    private func numberText(_ v: JSONValue) -> String {
        if case .number(let t) = v { return " \(t)" }
        return ""
    }
}

extension String {
    /// The string without leading and trailing characters from `set`.
    func trimmed(of set: String) -> Substring {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return s
    }
}
