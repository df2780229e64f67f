/// Any JSON value, kept close to its text: a number stays as its exact lexeme (a price written `2.50` is never
/// rounded through a `Double`, an id beyond 2^53 is never changed) and object members keep their order, so a
/// document a proxy parses is forwarded as the client wrote it.
///
/// Equality compares objects as JSON does: the same members, in any order. Numbers compare by their text
/// (`1` and `1.0` differ), which is what a pass-through needs.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number exactly as written, e.g. `"2.50"`, `"-3"`, `"1e5"`. Build one with ``int(_:)`` or ``double(_:)``.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// An integer number.
    public static func int<Integer: BinaryInteger>(_ value: Integer) -> JSONValue { .number(String(value)) }

    /// A number from a `Double`: Swift's shortest text that reads back as the same double ("0.7", "1e-05",
    /// "100.0"); `null` for infinities and NaN, which JSON cannot write.
    public static func double(_ value: Double) -> JSONValue { value.isFinite ? .number(value.description) : .null }

    /// The member named `key` when this is an object, otherwise nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The string when this is a string, otherwise nil.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The Bool when this is a Bool, otherwise nil.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value as a whole number when it is a JSON number written without fraction or exponent that fits
    /// in 64 bits (`12`, `-3`); nil for `12.0`, `1e3` and everything else. Strict on purpose: a field that
    /// must be a whole number (`max_tokens`, `n`) is refused when written otherwise.
    public var intValue: Int64? {
        guard case .number(let text) = self else { return nil }
        return Int64(text)
    }

    /// ``intValue`` as an `Int`.
    public var integerValue: Int? { intValue.map { Int($0) } }

    /// The number as the nearest `Double`, when this is a number.
    public var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    /// The members when this is an object, otherwise nil.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The elements when this is an array, otherwise nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
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
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object with the members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
}
