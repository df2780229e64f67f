/// A JSON object's members in document order.
///
/// Lookups scan the members: request bodies and stream chunks have a few dozen keys at most, where a scan
/// beats hashing every key, and the order is what makes a forwarded body read as the client wrote it.
/// Setting a key that exists replaces its value in place; a new key goes at the end; setting nil removes it.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// The members in order. Keys are unique (the parser refuses a repeated key; the subscript keeps one).
    public private(set) var members: [(key: String, value: JSONValue)]
    /// The document text of members as parsed, for a root object parsed with `keepingMemberText`: the writer
    /// copies a member's text instead of re-encoding its value, until the member is set. A re-sent conversation
    /// is a 500 KB `messages` array forwarded unchanged, and re-encoding it was a fifth of the gateway's added
    /// time to first token (profiled). A class, so that the object stays two words and `JSONValue` no larger.
    private var memberText: MemberText?

    /// An object with `members` in that order; for a repeated key the last value wins, at the first's place.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = []
        self.members.reserveCapacity(members.count)
        var positions: [String: Int] = [:]
        for member in members {
            if let i = positions[member.key] {
                self.members[i].value = member.value
            } else {
                positions[member.key] = self.members.count
                self.members.append(member)
            }
        }
    }

    /// Members the parser has already checked for repeated keys, with the text each value was parsed from.
    init(uniqueMembers members: [(key: String, value: JSONValue)], text: MemberText? = nil) {
        self.members = members
        memberText = text
    }

    /// The size of the document the object was parsed from, when it keeps member text (else 0).
    var parsedDocumentBytes: Int { memberText?.source.count ?? 0 }

    /// The exact JSON text `key`'s value was parsed from, while that member has not been set since.
    public func parsedText(of key: String) -> ArraySlice<UInt8>? {
        guard let memberText, let range = memberText.ranges[key] else { return nil }
        return memberText.source[range]
    }

    /// An object with the members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }

    /// An object from unordered pairs, keys sorted so the text is the same on every run.
    public init(sortingKeysOf dictionary: [String: JSONValue]) {
        self.init(dictionary.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
    }

    /// The value of `key`, or nil when there is no such member. Setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let text = memberText, text.ranges[key] != nil {
                var ranges = text.ranges
                ranges[key] = nil
                memberText = ranges.isEmpty ? nil : MemberText(source: text.source, ranges: ranges)
            }
            let index = members.firstIndex(where: { $0.key == key })
            switch (index, newValue) {
            case (let i?, let value?): members[i].value = value
            case (let i?, nil): members.remove(at: i)
            case (nil, let value?): members.append((key, value))
            case (nil, nil): break
            }
        }
    }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> (key: String, value: JSONValue) { members[position] }

    /// Same members with equal values, in any order (JSON objects are unordered).
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        return a.members.allSatisfy { member in b[member.key] == member.value }
    }

    /// Order-independent, to agree with `==`.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for member in members {
            var one = Hasher()
            one.combine(member.key)
            one.combine(member.value)
            combined ^= one.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }
}

/// Where each member's value is written in the document an object was parsed from (never changed: a member that
/// is set gets a new instance without it).
final class MemberText: Sendable {
    let source: [UInt8]
    let ranges: [String: Range<Int>]

    init(source: [UInt8], ranges: [String: Range<Int>]) {
        self.source = source
        self.ranges = ranges
    }
}
