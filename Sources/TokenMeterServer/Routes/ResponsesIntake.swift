import TokenMeterCatalog
import TokenMeterClient
import TokenMeterJSON
import TokenMeterTokenizer

/// A `POST /v1/responses` body that passed validation, read two ways: as the client sent it (passed through to
/// an upstream that speaks the Responses API) and translated to a chat-completions request (for counting the
/// prompt with the chat rule, and for an upstream that speaks only chat completions).
struct ResponsesRequest: Sendable {
    /// The body as the client sent it (unknown fields, member order and number text kept).
    let body: JSONObject
    /// The first field the chat translation cannot carry (`previous_response_id`, a built-in tool, ...): the
    /// field's path and why. A translated upstream refuses the request with a 400 naming it.
    let untranslatable: (param: String, reason: String)?

    /// Validates a raw body and translates it into the ``ChatIntake`` admission works on.
    ///
    /// Refuses invalid UTF-8, malformed JSON, a missing `model` or `input`, fields of the wrong type, content
    /// parts TokenMeter cannot count (files, audio), `background: true` (a background response runs after the
    /// request ends, where nothing can meter it) and a `max_output_tokens` that is not 1 to
    /// `maxTokensCeiling`, each with a 400 in OpenAI's error shape naming the field.
    static func intake(bytes: [UInt8], maxTokensCeiling: Int) throws(GatewayError) -> ChatIntake {
        guard UTF8Validation.firstInvalidOffset(in: bytes) == nil else { throw .badRequest("The request body is not valid UTF-8.") }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes, keepingMemberText: true) } catch {
            throw .badRequest("We could not parse the JSON body of your request: \(error). "
                + "(HINT: This likely means you aren't using your HTTP library correctly.)")
        }
        guard case .object(let body) = root else { throw .badRequest("The request body must be a JSON object.") }
        var translation = ResponsesTranslation(body: body)
        let chat = try translation.chatBody(maxTokensCeiling: maxTokensCeiling)
        let counted: ChatPrompt
        do { counted = try ChatPrompt(.object(chat)) } catch {
            // The translation only builds what ChatPrompt reads; a refusal here is a value the checks above let by.
            throw .badRequest("Invalid request: \(error).")
        }
        let streaming: Bool
        switch body["stream"] {
        case nil, .null?: streaming = false
        case .bool(let b)?: streaming = b
        case let v?: throw .badRequest("Invalid 'stream': expected a boolean, found \(v.typeName).", param: "stream")
        }
        let responses = ResponsesRequest(body: body, untranslatable: translation.untranslatable)
        return ChatIntake(model: counted.model ?? "", counted: counted, body: ChatRequest(body: chat), streaming: streaming,
                          includeUsage: true, serviceTier: chat["service_tier"]?.stringValue, responses: responses)
    }
}

/// Builds the chat-completions request a Responses request means, noting the first thing it cannot carry.
private struct ResponsesTranslation {
    let body: JSONObject
    private(set) var untranslatable: (param: String, reason: String)?

    init(body: JSONObject) { self.body = body }

    /// Fields the translation carries over to chat completions as they are.
    private static let sameInChat: Set<String> = [
        "temperature", "top_p", "parallel_tool_calls", "user", "safety_identifier", "prompt_cache_key",
        "prompt_cache_retention", "service_tier",
    ]
    /// Fields answered by the gateway itself (echoed in the response object) and not sent to a chat upstream.
    private static let keptByGateway: Set<String> = ["model", "input", "instructions", "max_output_tokens", "tools", "tool_choice",
                                                     "metadata", "store", "stream", "stream_options", "text", "reasoning",
                                                     "include", "background", "truncation"]

    private mutating func cannotTranslate(_ param: String, _ reason: String) {
        if untranslatable == nil { untranslatable = (param, reason) }
    }

    mutating func chatBody(maxTokensCeiling: Int) throws(GatewayError) -> JSONObject {
        var chat: JSONObject = [:]
        guard let model = body["model"], model != .null else { throw .badRequest("Missing required parameter: 'model'.", param: "model") }
        guard case .string(let name) = model, !name.isEmpty else {
            throw .badRequest("Invalid 'model': expected a non-empty string.", param: "model")
        }
        chat["model"] = model
        if body["background"]?.boolValue == true {
            throw .badRequest("TokenMeter meters a response while it is generated, so it cannot serve background responses "
                + "(they run after the request ends); leave 'background' out or set it to false.", param: "background")
        }
        chat["messages"] = .array(try messages())
        if let tools = body["tools"], tools != .null { chat["tools"] = try self.tools(tools) }
        if let choice = body["tool_choice"], choice != .null { chat["tool_choice"] = toolChoice(choice) }
        if let cap = body["max_output_tokens"], cap != .null {
            guard let n = cap.integerValue, n >= 1 else {
                throw .badRequest("Invalid 'max_output_tokens': expected a whole number of at least 1.", param: "max_output_tokens")
            }
            guard n <= maxTokensCeiling else {
                throw .badRequest("Invalid 'max_output_tokens': \(n) is more than the most this server allows (\(maxTokensCeiling)).",
                                  param: "max_output_tokens", code: "invalid_value")
            }
            chat["max_tokens"] = cap
        }
        for (key, value) in body where Self.sameInChat.contains(key) { chat[key] = value }
        try translateTextAndReasoning(into: &chat)
        if case .array(let include)? = body["include"], !include.isEmpty {
            cannotTranslate("include", "chat completions return none of the extra output 'include' asks for")
        }
        if let truncation = body["truncation"]?.stringValue, truncation != "disabled" {
            cannotTranslate("truncation", "chat completions do not truncate a conversation")
        }
        for (key, value) in body where value != .null && !Self.sameInChat.contains(key) && !Self.keptByGateway.contains(key) {
            let reason = switch key {
            case "previous_response_id", "conversation": "it continues a conversation stored by the provider"
            case "prompt": "it names a prompt template stored by the provider"
            case "top_logprobs": "the translated events carry no log probabilities"
            default: "chat completions have no such field"
            }
            cannotTranslate(key, reason)
        }
        return chat
    }

    // MARK: Input

    /// `instructions` and `input` as chat messages: a string input is one user message; items are messages
    /// (their content parts translated), function calls (merged into one assistant message per run) and
    /// function-call outputs (tool messages). Other items count nothing here and cannot be translated.
    private mutating func messages() throws(GatewayError) -> [JSONValue] {
        var messages: [JSONValue] = []
        switch body["instructions"] {
        case nil, .null?: break
        case .string(let text)?: messages.append(["role": "system", "content": .string(text)])
        case let v?: throw .badRequest("Invalid 'instructions': expected a string, found \(v.typeName).", param: "instructions")
        }
        guard let input = body["input"], input != .null else { throw .badRequest("Missing required parameter: 'input'.", param: "input") }
        switch input {
        case .string(let text):
            messages.append(["role": "user", "content": .string(text)])
        case .array(let items):
            guard !items.isEmpty else { throw .badRequest("Invalid 'input': expected at least one item.", param: "input") }
            var calls: [JSONValue] = []
            func flushCalls() {
                if !calls.isEmpty { messages.append(["role": "assistant", "content": .null, "tool_calls": .array(calls)]) }
                calls = []
            }
            for (i, item) in items.enumerated() {
                let path = "input[\(i)]"
                guard case .object(let object) = item else {
                    throw .badRequest("Invalid '\(path)': expected an object, found \(item.typeName).", param: path)
                }
                let type = object["type"]?.stringValue ?? (object["role"] != nil ? "message" : "")
                if type != "function_call" { flushCalls() }
                switch type {
                case "message":
                    messages.append(try message(object, path: path))
                case "function_call":
                    guard let name = object["name"]?.stringValue, let arguments = object["arguments"]?.stringValue,
                          let callID = object["call_id"]?.stringValue
                    else {
                        throw .badRequest("Invalid '\(path)': a function_call item needs string 'call_id', 'name' and 'arguments'.", param: path)
                    }
                    calls.append(["id": .string(callID), "type": "function",
                                  "function": ["name": .string(name), "arguments": .string(arguments)]])
                case "function_call_output":
                    guard let callID = object["call_id"]?.stringValue, let output = object["output"] else {
                        throw .badRequest("Invalid '\(path)': a function_call_output item needs 'call_id' and 'output'.", param: path)
                    }
                    let content: JSONValue
                    if case .string = output { content = output } else { content = .array(try parts(output, path: path + ".output")) }
                    messages.append(["role": "tool", "tool_call_id": .string(callID), "content": content])
                case "":
                    throw .badRequest("Invalid '\(path)': an input item needs a 'type' (or a 'role' for a message).", param: path + ".type")
                default:
                    // Reasoning items, item references, built-in tool calls: the provider's own state. A Responses
                    // upstream reads them (and bills them, which its usage reports); nothing here can.
                    cannotTranslate(path, "a \(type) item refers to output only the provider's Responses API can read")
                }
            }
            flushCalls()
        case let v:
            throw .badRequest("Invalid 'input': expected a string or an array of items, found \(v.typeName).", param: "input")
        }
        if messages.isEmpty { messages.append(["role": "user", "content": ""]) }
        return messages
    }

    private mutating func message(_ object: JSONObject, path: String) throws(GatewayError) -> JSONValue {
        guard let role = object["role"]?.stringValue, ["user", "assistant", "system", "developer"].contains(role) else {
            throw .badRequest("Invalid '\(path).role': expected one of user, assistant, system, developer.", param: path + ".role")
        }
        guard let content = object["content"] else {
            throw .badRequest("Missing required parameter: '\(path).content'.", param: path + ".content")
        }
        if case .string = content { return ["role": .string(role), "content": content] }
        return ["role": .string(role), "content": .array(try parts(content, path: path + ".content"))]
    }

    /// Content parts as chat parts: text of every kind as `text`, images as `image_url`. A file or audio part
    /// is refused: TokenMeter cannot count it, so it cannot hold budget for it.
    private mutating func parts(_ value: JSONValue, path: String) throws(GatewayError) -> [JSONValue] {
        guard case .array(let parts) = value else {
            throw .badRequest("Invalid '\(path)': expected a string or an array of content parts, found \(value.typeName).", param: path)
        }
        var translated: [JSONValue] = []
        for (j, part) in parts.enumerated() {
            let partPath = "\(path)[\(j)]"
            let type = part["type"]?.stringValue ?? ""
            switch type {
            case "input_text", "output_text", "text", "summary_text", "reasoning_text":
                guard let text = part["text"]?.stringValue else {
                    throw .badRequest("Invalid '\(partPath).text': expected a string.", param: partPath + ".text")
                }
                translated.append(["type": "text", "text": .string(text)])
            case "refusal":
                translated.append(["type": "text", "text": .string(part["refusal"]?.stringValue ?? "")])
            case "input_image":
                var image: JSONObject = ["detail": part["detail"] ?? "auto"]
                if let url = part["image_url"]?.stringValue {
                    image["url"] = .string(url)
                } else if let file = part["file_id"]?.stringValue {
                    // Counted as an image of unknown size (the most an image can cost); only the provider can fetch it.
                    image["url"] = .string("file:\(file)")
                    cannotTranslate(partPath + ".file_id", "an image given by file id is stored by the provider")
                } else {
                    throw .badRequest("Invalid '\(partPath)': an input_image needs 'image_url' or 'file_id'.", param: partPath)
                }
                translated.append(["type": "image_url", "image_url": .object(image)])
            default:
                throw GatewayError(.badRequest, "TokenMeter cannot count a content part of type \"\(type)\", so it cannot hold "
                    + "budget for it; send input_text and input_image parts only.", param: partPath, code: "unsupported_content_part")
            }
        }
        return translated
    }

    // MARK: Tools and output options

    /// Function tools in the chat shape (`{type, function: {name, description, parameters, strict}}`); any other
    /// tool is one of the provider's built-in tools, which only its Responses API runs.
    private mutating func tools(_ value: JSONValue) throws(GatewayError) -> JSONValue {
        guard case .array(let tools) = value else {
            throw .badRequest("Invalid 'tools': expected an array, found \(value.typeName).", param: "tools")
        }
        var translated: [JSONValue] = []
        for (i, tool) in tools.enumerated() {
            let type = tool["type"]?.stringValue ?? ""
            guard type == "function" else {
                cannotTranslate("tools[\(i)].type", "'\(type)' is a built-in tool that only the provider's Responses API runs")
                continue
            }
            guard let name = tool["name"]?.stringValue else {
                throw .badRequest("Missing required parameter: 'tools[\(i)].name'.", param: "tools[\(i)].name")
            }
            var function: JSONObject = ["name": .string(name)]
            for key in ["description", "parameters", "strict"] { if let v = tool[key], v != .null { function[key] = v } }
            translated.append(["type": "function", "function": .object(function)])
        }
        return .array(translated)
    }

    private mutating func toolChoice(_ value: JSONValue) -> JSONValue {
        if case .string = value { return value }
        if value["type"]?.stringValue == "function", let name = value["name"]?.stringValue {
            return ["type": "function", "function": ["name": .string(name)]]
        }
        cannotTranslate("tool_choice", "only 'auto', 'none', 'required' and a named function translate to chat completions")
        return "auto"
    }

    /// `text.format` becomes `response_format`, `text.verbosity` `verbosity`, `reasoning.effort`
    /// `reasoning_effort`; a reasoning summary has no chat equivalent.
    private mutating func translateTextAndReasoning(into chat: inout JSONObject) throws(GatewayError) {
        if let text = body["text"], text != .null {
            guard case .object = text else { throw .badRequest("Invalid 'text': expected an object.", param: "text") }
            if let format = text["format"], format != .null {
                switch format["type"]?.stringValue {
                case "text"?: break
                case "json_object"?: chat["response_format"] = ["type": "json_object"]
                case "json_schema"?:
                    var schema: JSONObject = [:]
                    for key in ["name", "schema", "strict", "description"] { if let v = format[key], v != .null { schema[key] = v } }
                    chat["response_format"] = ["type": "json_schema", "json_schema": .object(schema)]
                default:
                    throw .badRequest("Invalid 'text.format.type': expected text, json_object or json_schema.", param: "text.format.type")
                }
            }
            if let verbosity = text["verbosity"], verbosity != .null { chat["verbosity"] = verbosity }
        }
        if let reasoning = body["reasoning"], reasoning != .null {
            if let effort = reasoning["effort"], effort != .null { chat["reasoning_effort"] = effort }
            for key in ["summary", "generate_summary"] where reasoning[key] != nil && reasoning[key] != .null {
                cannotTranslate("reasoning.\(key)", "chat completions return no reasoning summary")
            }
        }
    }
}
