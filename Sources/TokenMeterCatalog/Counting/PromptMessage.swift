import TokenMeterJSON

/// One chat message as sent: its JSON members in order. Every value is counted (the cookbook rule),
/// so the message keeps all of them rather than a fixed set of fields.
public struct PromptMessage: Sendable {
    /// One part of an array `content`.
    public enum ContentPart: Sendable, Equatable {
        /// `{"type": "text", "text": ...}` (also `refusal` parts).
        case text(String)
        /// `{"type": "image_url", "image_url": {"url": ..., "detail": ...}}`.
        case image(ImageInput)
        /// Any other part type (audio, file, ...), which the counter cannot size.
        case other(type: String)
    }

    /// The value of one member, classified for counting.
    public enum Value: Sendable, Equatable {
        case text(String)
        case parts([ContentPart])
        /// `tool_calls` of an assistant message: (function name, arguments text) per call.
        case toolCalls([(name: String, arguments: String)])
        case null
        /// Any other JSON value, kept as compact JSON text.
        case other(json: String)

        public static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.text(let x), .text(let y)): x == y
            case (.parts(let x), .parts(let y)): x == y
            case (.toolCalls(let x), .toolCalls(let y)): x.count == y.count && zip(x, y).allSatisfy { $0 == $1 }
            case (.null, .null): true
            case (.other(let x), .other(let y)): x == y
            default: false
            }
        }
    }

    /// The `role` (system, developer, user, assistant, tool).
    public var role: String
    /// All members in order, `role` included.
    public var members: [(key: String, value: Value)]

    /// A message with `role` and string `content`, plus an optional `name`.
    public init(role: String, content: String, name: String? = nil) {
        self.role = role
        members = [("role", .text(role))]
        if let name { members.append(("name", .text(name))) }
        members.append(("content", .text(content)))
    }

    /// Parses `messages[i]`; `path` is used in error messages.
    public init(_ value: JSONValue, path: String) throws(RequestError) {
        guard case .object(let raw) = value else {
            throw .invalidField(path: path, problem: "expected a message object, found \(value.typeName)")
        }
        guard let roleValue = value["role"] else { throw .missingField(path: "\(path).role") }
        guard case .string(let role) = roleValue else {
            throw .invalidField(path: "\(path).role", problem: "expected a string, found \(roleValue.typeName)")
        }
        self.role = role
        var out: [(key: String, value: Value)] = []
        for (key, v) in raw {
            let p = "\(path).\(key)"
            switch (key, v) {
            case (_, .string(let s)): out.append((key, .text(s)))
            case (_, .null): out.append((key, .null))
            case ("content", .array(let parts)): out.append((key, .parts(try PromptMessage.parseParts(parts, path: p))))
            case ("content", _): throw .invalidField(path: p, problem: "expected a string, an array of content parts or null, found \(v.typeName)")
            case ("name", _): throw .invalidField(path: p, problem: "expected a string, found \(v.typeName)")
            case ("tool_calls", .array(let calls)): out.append((key, .toolCalls(try PromptMessage.parseToolCalls(calls, path: p))))
            default: out.append((key, .other(json: v.compactJSON)))
            }
        }
        if role != "assistant", value["content"] == nil { throw .missingField(path: "\(path).content") }
        members = out
    }

    private static func parseParts(_ parts: [JSONValue], path: String) throws(RequestError) -> [ContentPart] {
        var out: [ContentPart] = []
        for (i, part) in parts.enumerated() {
            let p = "\(path)[\(i)]"
            guard case .object = part else { throw .invalidField(path: p, problem: "expected a content part object, found \(part.typeName)") }
            guard case .string(let type)? = part["type"] else { throw .missingField(path: "\(p).type") }
            switch type {
            case "text", "refusal":
                guard case .string(let text)? = part[type] else {
                    throw part[type] == nil ? .missingField(path: "\(p).\(type)")
                        : .invalidField(path: "\(p).\(type)", problem: "expected a string")
                }
                out.append(.text(text))
            case "image_url":
                out.append(.image(try ImageInput(part["image_url"], path: "\(p).image_url")))
            default:
                out.append(.other(type: type))
            }
        }
        return out
    }

    private static func parseToolCalls(_ calls: [JSONValue], path: String) throws(RequestError) -> [(name: String, arguments: String)] {
        var out: [(name: String, arguments: String)] = []
        for (i, call) in calls.enumerated() {
            let p = "\(path)[\(i)].function"
            guard let fn = call["function"] else { throw .missingField(path: p) }
            guard case .string(let name)? = fn["name"] else { throw .missingField(path: "\(p).name") }
            let arguments: String
            switch fn["arguments"] {
            case .string(let s)?: arguments = s
            case nil, .null?: arguments = ""
            case let v?: arguments = v.compactJSON
            }
            out.append((name, arguments))
        }
        return out
    }
}
