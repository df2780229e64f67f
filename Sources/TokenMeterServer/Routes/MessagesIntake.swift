import TokenMeterCatalog
import TokenMeterClient
import TokenMeterJSON
import TokenMeterTokenizer

/// A `POST /v1/messages` body (Anthropic's Messages API) that passed validation, read two ways: as the client
/// sent it (passed through to an Anthropic upstream) and translated to a chat-completions request (for counting
/// the prompt, and for an upstream that speaks chat completions or Ollama's API).
struct MessagesRequest: Sendable {
    /// The body as the client sent it.
    let body: JSONObject
    /// The first field the chat translation cannot carry: its path and why. An upstream that is not Anthropic
    /// refuses the request with a 400 naming it.
    let untranslatable: UntranslatableField?
    /// Whether the request turns on extended thinking (`thinking.type` `enabled` or `adaptive`): Anthropic bills
    /// the whole thinking as output, more than the summary it streams, so the request is held as a
    /// hidden-output one.
    let thinks: Bool

    /// Validates a raw body and translates it into the ``ChatIntake`` admission works on. Refuses invalid
    /// UTF-8, malformed JSON, a missing `model`, `max_tokens` (Anthropic requires it) or `messages`, roles other
    /// than user and assistant, blocks TokenMeter cannot count (documents, files), and fields of the wrong
    /// type, each with a 400 naming the field.
    /// `forCounting` (`/v1/messages/count_tokens`) does not require `max_tokens`.
    static func intake(bytes: [UInt8], maxTokensCeiling: Int, forCounting: Bool = false) throws(GatewayError) -> ChatIntake {
        guard UTF8Validation.firstInvalidOffset(in: bytes) == nil else { throw .badRequest("The request body is not valid UTF-8.") }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes, keepingMemberText: true) } catch {
            throw .badRequest("We could not parse the JSON body of your request: \(error).")
        }
        guard case .object(let body) = root else { throw .badRequest("The request body must be a JSON object.") }
        var translation = MessagesTranslation(body: body)
        let chat = try translation.chatBody(maxTokensCeiling: maxTokensCeiling, forCounting: forCounting)
        let counted: ChatPrompt
        do { counted = try ChatPrompt(.object(chat)) } catch { throw .badRequest("Invalid request: \(error).") }
        let streaming: Bool
        switch body["stream"] {
        case nil, .null?: streaming = false
        case .bool(let b)?: streaming = b
        case let v?: throw .badRequest("stream: expected a boolean, found \(v.typeName).", param: "stream")
        }
        let kind = body["thinking"]?["type"]?.stringValue
        let messages = MessagesRequest(body: body, untranslatable: translation.untranslatable,
                                       thinks: kind == "enabled" || kind == "adaptive")
        return ChatIntake(model: counted.model ?? "", counted: counted, body: ChatRequest(body: chat), streaming: streaming,
                          includeUsage: true, serviceTier: nil, responses: nil, messages: messages)
    }
}

/// Builds the chat-completions request a Messages request means, noting the first thing it cannot carry.
private struct MessagesTranslation {
    let body: JSONObject
    private(set) var untranslatable: UntranslatableField?

    init(body: JSONObject) { self.body = body }

    private static let known: Set<String> = ["model", "messages", "system", "max_tokens", "tools", "tool_choice", "stop_sequences",
                                             "temperature", "top_p", "top_k", "stream", "metadata", "thinking", "service_tier"]

    private mutating func cannotTranslate(_ param: String, _ reason: String) {
        if untranslatable == nil { untranslatable = UntranslatableField(param: param, reason: reason) }
    }

    mutating func chatBody(maxTokensCeiling: Int, forCounting: Bool) throws(GatewayError) -> JSONObject {
        guard case .string(let model)? = body["model"], !model.isEmpty else {
            throw .badRequest("model: Field required", param: "model")
        }
        var chat: JSONObject = ["model": .string(model)]
        if !forCounting {
            guard let cap = body["max_tokens"], cap != .null else { throw .badRequest("max_tokens: Field required", param: "max_tokens") }
            guard let n = cap.integerValue, n >= 1 else {
                throw .badRequest("max_tokens: must be a whole number of at least 1", param: "max_tokens")
            }
            guard n <= maxTokensCeiling else {
                throw .badRequest("max_tokens: \(n) is more than the most this server allows (\(maxTokensCeiling))", param: "max_tokens")
            }
            chat["max_tokens"] = cap
        }
        var messages: [JSONValue] = []
        switch body["system"] {
        case nil, .null?: break
        case .string(let text)?: messages.append(["role": "system", "content": .string(text)])
        case .array(let blocks)?:
            var text = ""
            for (i, block) in blocks.enumerated() {
                guard block["type"]?.stringValue == "text", let piece = block["text"]?.stringValue else {
                    throw .badRequest("system.\(i): expected a text block", param: "system[\(i)]")
                }
                text += piece
            }
            messages.append(["role": "system", "content": .string(text)])
        case let v?: throw .badRequest("system: expected a string or text blocks, found \(v.typeName)", param: "system")
        }
        guard case .array(let turns)? = body["messages"], !turns.isEmpty else {
            throw .badRequest("messages: Field required (at least one message)", param: "messages")
        }
        for (i, turn) in turns.enumerated() {
            messages += try translate(turn, path: "messages[\(i)]")
        }
        chat["messages"] = .array(messages)
        if let stop = body["stop_sequences"], stop != .null {
            guard case .array = stop else { throw .badRequest("stop_sequences: expected an array of strings", param: "stop_sequences") }
            chat["stop"] = stop
        }
        for key in ["temperature", "top_p", "top_k"] { if let v = body[key], v != .null { chat[key] = v } }
        if let user = body["metadata"]?["user_id"]?.stringValue { chat["user"] = .string(user) }
        if let tools = body["tools"], tools != .null { chat["tools"] = try self.tools(tools) }
        if let choice = body["tool_choice"], choice != .null { toolChoice(choice, into: &chat) }
        if let thinking = body["thinking"], thinking != .null, thinking["type"]?.stringValue != "disabled" {
            cannotTranslate("thinking", "extended thinking has no chat-completions equivalent")
        }
        for (key, value) in body where value != .null && !Self.known.contains(key) {
            cannotTranslate(key, "chat completions have no equivalent of '\(key)'")
        }
        return chat
    }

    /// One Messages turn as chat messages: a user turn's `tool_result` blocks become `tool` messages (before its
    /// other content); an assistant turn's `tool_use` blocks become `tool_calls`.
    private mutating func translate(_ turn: JSONValue, path: String) throws(GatewayError) -> [JSONValue] {
        guard let role = turn["role"]?.stringValue, role == "user" || role == "assistant" else {
            throw .badRequest("\(path).role: Input should be 'user' or 'assistant'", param: path + ".role")
        }
        guard let content = turn["content"] else { throw .badRequest("\(path).content: Field required", param: path + ".content") }
        if case .string = content { return [["role": .string(role), "content": content]] }
        guard case .array(let blocks) = content else {
            throw .badRequest("\(path).content: expected a string or content blocks", param: path + ".content")
        }
        var parts: [JSONValue] = []
        var calls: [JSONValue] = []
        var results: [JSONValue] = []
        for (j, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(j)]"
            switch block["type"]?.stringValue ?? "" {
            case "text":
                guard let text = block["text"]?.stringValue else { throw .badRequest("\(blockPath).text: Field required", param: blockPath + ".text") }
                parts.append(["type": "text", "text": .string(text)])
            case "image":
                let source = block["source"]
                switch source?["type"]?.stringValue {
                case "base64"?:
                    let media = source?["media_type"]?.stringValue ?? "image/png"
                    parts.append(["type": "image_url", "image_url": ["url": .string("data:\(media);base64,\(source?["data"]?.stringValue ?? "")")]])
                case "url"?:
                    parts.append(["type": "image_url", "image_url": ["url": source?["url"] ?? ""]])
                default:
                    throw GatewayError(.badRequest, "TokenMeter cannot count an image given by \(source?["type"]?.stringValue ?? "no") source; "
                        + "send it as base64 or a URL.", param: blockPath, code: "unsupported_content_part")
                }
            case "tool_use":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw .badRequest("\(blockPath): a tool_use block needs 'id' and 'name'", param: blockPath)
                }
                let input = block["input"] ?? .object([:])
                calls.append(["id": .string(id), "type": "function",
                              "function": ["name": .string(name), "arguments": .string(String(decoding: input.encoded(), as: UTF8.self))]])
            case "tool_result":
                guard let id = block["tool_use_id"]?.stringValue else {
                    throw .badRequest("\(blockPath).tool_use_id: Field required", param: blockPath + ".tool_use_id")
                }
                var text = ""
                switch block["content"] {
                case .string(let s)?: text = s
                case .array(let inner)?:
                    for (k, part) in inner.enumerated() {
                        guard part["type"]?.stringValue == "text", let piece = part["text"]?.stringValue else {
                            throw GatewayError(.badRequest, "TokenMeter counts only text in a tool result.", param: "\(blockPath).content[\(k)]",
                                               code: "unsupported_content_part")
                        }
                        text += piece
                    }
                default: break
                }
                results.append(["role": "tool", "tool_call_id": .string(id), "content": .string(text)])
            case "thinking", "redacted_thinking":
                // Earlier thinking sent back: Anthropic reads it (and does not bill it as input); a chat upstream cannot.
                cannotTranslate(blockPath, "a \(block["type"]?.stringValue ?? "") block is Anthropic's own")
            case let type:
                throw GatewayError(.badRequest, "TokenMeter cannot count a content block of type \"\(type)\", so it cannot hold "
                    + "budget for it; send text, image, tool_use and tool_result blocks.", param: blockPath, code: "unsupported_content_part")
            }
        }
        var out = results
        if role == "assistant" {
            var message: JSONObject = ["role": "assistant", "content": parts.isEmpty ? .null : .array(parts)]
            if !calls.isEmpty { message["tool_calls"] = .array(calls) }
            out.append(.object(message))
        } else if !parts.isEmpty {
            out.append(["role": "user", "content": .array(parts)])
        }
        return out
    }

    /// Anthropic tools in the chat shape; a server tool (one with a `type` other than `custom`) only Anthropic runs.
    private mutating func tools(_ value: JSONValue) throws(GatewayError) -> JSONValue {
        guard case .array(let tools) = value else { throw .badRequest("tools: expected an array", param: "tools") }
        var translated: [JSONValue] = []
        for (i, tool) in tools.enumerated() {
            if let type = tool["type"]?.stringValue, type != "custom" {
                cannotTranslate("tools[\(i)].type", "'\(type)' is a tool only Anthropic runs")
                continue
            }
            guard let name = tool["name"]?.stringValue else { throw .badRequest("tools.\(i).name: Field required", param: "tools[\(i)].name") }
            var function: JSONObject = ["name": .string(name), "parameters": tool["input_schema"] ?? ["type": "object"]]
            if let d = tool["description"], d != .null { function["description"] = d }
            translated.append(["type": "function", "function": .object(function)])
        }
        return .array(translated)
    }

    private mutating func toolChoice(_ value: JSONValue, into chat: inout JSONObject) {
        switch value["type"]?.stringValue {
        case "auto"?: chat["tool_choice"] = "auto"
        case "any"?: chat["tool_choice"] = "required"
        case "none"?: chat["tool_choice"] = "none"
        case "tool"?: chat["tool_choice"] = ["type": "function", "function": ["name": value["name"] ?? ""]]
        default: cannotTranslate("tool_choice", "its type has no chat-completions equivalent")
        }
        if value["disable_parallel_tool_use"]?.boolValue == true { chat["parallel_tool_calls"] = false }
    }
}
