/// `Codable` for values inside `Decodable` wire structs (an error object, tool-call arguments). Through a
/// `Decoder` a number's text is not available, so integers that fit in 64 bits are kept exactly and other
/// numbers go through `Double`, and object members come back in sorted key order. Where the exact text or
/// the order matters, parse with ``JSONParser`` instead.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(JSONObject(sortingKeysOf: try container.decode([String: JSONValue].self)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let text):
            if let integer = Int64(text) {
                try container.encode(integer)
            } else if let double = Double(text), double.isFinite {
                try container.encode(double)
            } else {
                try container.encodeNil()
            }
        case .string(let value): try container.encode(value)
        case .array(let items): try container.encode(items)
        case .object(let object):
            try container.encode(Dictionary(object.members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }))
        }
    }
}
