import Foundation
import TokenMeterJSON

/// A field of a request that a translation to another API cannot carry, and why.
public struct UntranslatableField: Error, Sendable, Hashable {
    /// The field's path in the request, e.g. `response_format` or `messages[2].content[0]`.
    public var param: String
    /// Why it cannot be carried, as a clause ("Anthropic's Messages API has no such field").
    public var reason: String

    /// Names a field and the reason.
    public init(param: String, reason: String) {
        self.param = param
        self.reason = reason
    }
}

extension AnthropicWire {
    /// Chat-completion fields with the same meaning in a Messages request, or none that changes the answer.
    private static let carried: Set<String> = [
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens", "max_completion_tokens", "stop",
        "temperature", "top_p", "user", "stream", "stream_options", "service_tier", "metadata", "store",
    ]

    /// Chat-completion fields some clients send at their default value, which asks for nothing a Messages request
    /// lacks: accepted at that value, refused at any other.
    private static let neutral: [String: JSONValue] = [
        "n": 1, "logprobs": false, "frequency_penalty": 0, "presence_penalty": 0,
    ]

    private static func isNeutral(_ key: String, _ value: JSONValue) -> Bool {
        guard let expected = neutral[key] else { return false }
        if let a = value.doubleValue, let b = expected.doubleValue { return a == b }  // 0 and 0.0 alike
        return value == expected
    }

    /// The Messages request a chat-completions request means (docs/RESPONSES.md and docs/reference/ANTHROPIC.md):
    /// `system` and `developer` messages become the top-level `system`; user content parts become text and image
    /// blocks (a `data:` URL as a base64 source, another URL as a URL source); an assistant's text and
    /// `tool_calls` become text and `tool_use` blocks; `tool` messages become `tool_result` blocks of a user
    /// turn; consecutive turns of one role are merged, as Anthropic requires alternation. Function tools become
    /// `{name, description, input_schema}`; `tool_choice` `auto` / `required` / `none` / a named function become
    /// `auto` / `any` / `none` / `tool`, and `parallel_tool_calls: false` sets `disable_parallel_tool_use`;
    /// `max_completion_tokens` or `max_tokens` becomes `max_tokens`, `stop` `stop_sequences`, `user`
    /// `metadata.user_id`. Throws the first field that has no Messages equivalent.
    public static func messagesRequest(fromChat chat: JSONObject) throws(UntranslatableField) -> JSONObject {
        for (key, value) in chat where value != .null && !carried.contains(key) && !isNeutral(key, value) {
            throw UntranslatableField(param: key, reason: "Anthropic's Messages API has no equivalent of '\(key)'")
        }
        var body: JSONObject = ["model": chat["model"] ?? .null]
        var system: [String] = []
        var turns: [(role: String, blocks: [JSONValue])] = []
        func append(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            if turns.last?.role == role { turns[turns.count - 1].blocks += blocks } else { turns.append((role, blocks)) }
        }
        for (i, message) in (chat["messages"]?.arrayValue ?? []).enumerated() {
            let role = message["role"]?.stringValue ?? ""
            let path = "messages[\(i)]"
            switch role {
            case "system", "developer":
                system.append(try text(of: message["content"], path: path + ".content"))
            case "user":
                append("user", try blocks(message["content"], path: path + ".content"))
            case "assistant":
                var blocks = message["content"].map { $0 == .null ? [] : (try? Self.blocks($0, path: path)) ?? [] } ?? []
                for call in message["tool_calls"]?.arrayValue ?? [] {
                    let arguments = call["function"]?["arguments"]?.stringValue ?? "{}"
                    let input = (try? JSONParser.parse(Array(arguments.utf8))) ?? .object([:])
                    blocks.append(["type": "tool_use", "id": call["id"] ?? "", "name": call["function"]?["name"] ?? "", "input": input])
                }
                append("assistant", blocks)
            case "tool":
                let content = try text(of: message["content"], path: path + ".content")
                append("user", [["type": "tool_result", "tool_use_id": message["tool_call_id"] ?? "", "content": .string(content)]])
            default:
                throw UntranslatableField(param: path + ".role", reason: "Anthropic's Messages API has no '\(role)' role")
            }
        }
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        body["messages"] = .array(turns.map { ["role": .string($0.role), "content": .array($0.blocks)] })
        if let cap = chat["max_completion_tokens"] ?? chat["max_tokens"], cap != .null { body["max_tokens"] = cap }
        if let stop = chat["stop"], stop != .null { body["stop_sequences"] = stop.stringValue.map { [.string($0)] } ?? stop }
        for key in ["temperature", "top_p"] { if let v = chat[key], v != .null { body[key] = v } }
        if let user = chat["user"]?.stringValue { body["metadata"] = ["user_id": .string(user)] }
        if case .array(let tools)? = chat["tools"] {
            body["tools"] = .array(try tools.enumerated().map { i, tool throws(UntranslatableField) in
                guard tool["type"]?.stringValue == "function", let function = tool["function"] else {
                    throw UntranslatableField(param: "tools[\(i)]", reason: "only function tools translate to Anthropic tools")
                }
                var translated: JSONObject = ["name": function["name"] ?? ""]
                if let d = function["description"], d != .null { translated["description"] = d }
                translated["input_schema"] = function["parameters"] ?? ["type": "object"]
                return .object(translated)
            })
        }
        var choice: JSONObject?
        switch chat["tool_choice"] {
        case nil, .null?: break
        case .string("auto")?: choice = ["type": "auto"]
        case .string("required")?: choice = ["type": "any"]
        case .string("none")?: choice = ["type": "none"]
        case let value?:
            guard let name = value["function"]?["name"] else {
                throw UntranslatableField(param: "tool_choice", reason: "it names no function")
            }
            choice = ["type": "tool", "name": name]
        }
        if chat["parallel_tool_calls"]?.boolValue == false {
            choice = choice ?? ["type": "auto"]
            choice?["disable_parallel_tool_use"] = true
        }
        if let choice { body["tool_choice"] = .object(choice) }
        return body
    }

    /// Content as text: a string, or the concatenated text of its parts.
    private static func text(of content: JSONValue?, path: String) throws(UntranslatableField) -> String {
        switch content {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case .array(let parts)?:
            var text = ""
            for (j, part) in parts.enumerated() {
                guard let piece = part["text"]?.stringValue else {
                    throw UntranslatableField(param: "\(path)[\(j)]", reason: "only text parts translate here")
                }
                text += piece
            }
            return text
        default: return ""
        }
    }

    /// Chat content as Messages content blocks: text, and images from `image_url` parts.
    private static func blocks(_ content: JSONValue?, path: String) throws(UntranslatableField) -> [JSONValue] {
        switch content {
        case nil, .null?: return []
        case .string(let s)?: return [["type": "text", "text": .string(s)]]
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for (j, part) in parts.enumerated() {
                switch part["type"]?.stringValue {
                case "text"?, "refusal"?:
                    blocks.append(["type": "text", "text": part["text"] ?? part["refusal"] ?? ""])
                case "image_url"?:
                    let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                    if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
                        let media = url.dropFirst(5).prefix { $0 != ";" && $0 != "," }
                        blocks.append(["type": "image", "source": ["type": "base64", "media_type": .string(String(media)),
                                                                   "data": .string(String(url[url.index(after: comma)...]))]])
                    } else {
                        blocks.append(["type": "image", "source": ["type": "url", "url": .string(url)]])
                    }
                default:
                    throw UntranslatableField(param: "\(path)[\(j)]", reason: "only text and image parts translate to Anthropic content blocks")
                }
            }
            return blocks
        default:
            return []
        }
    }
}
