/// A parsed JSON document, kept close to its text: numbers stay as their exact lexeme (so a price
/// written as `2.50` is never rounded through a `Double`) and object members keep their order.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number exactly as written in the document, e.g. `"2.50"`, `"-3"`, `"1e5"`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order. A repeated key is refused by the parser.
    case object([(key: String, value: JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The member named `key` of an object, or nil (also nil when `self` is not an object).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// A short name of the value's type for error messages: "string", "number", "object", ...
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The value as a whole number when it is a JSON number without fraction or exponent.
    public var integerValue: Int? {
        guard case .number(let text) = self else { return nil }
        return Int(text)
    }
}
