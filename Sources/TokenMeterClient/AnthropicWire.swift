import Foundation
import TokenMeterJSON

/// What an Anthropic stream said in `message_start` that its last events need: the input side of the usage,
/// reported once at the start, and completed by `message_delta` with the output.
struct AnthropicStreamState {
    var input: JSONValue?
}

/// Anthropic's Messages wire format (docs/reference/ANTHROPIC.md): the body sent upstream, the SSE events
/// decoded into ``ChatEvent``s so that one metering path serves every API, the non-streamed message, and the
/// translation of a chat-completions request into a Messages request.
public enum AnthropicWire {
    /// The `anthropic-version` header sent when the upstream's configuration names none.
    public static let version = "2023-06-01"

    /// The body sent upstream: the caller's Messages request with `stream` set. Nothing else is rewritten.
    static func requestBody(for request: ChatRequest, stream: Bool) -> [UInt8] {
        var body = request.body
        body["stream"] = .bool(stream)
        return JSONValue.object(body).encoded()
    }

    /// Decodes one SSE `data` payload of a Messages stream; nil for `ping`.
    ///
    /// What is metered goes into the event's choice 0: a `text_delta` as content, a `thinking_delta` as
    /// reasoning, a tool call's name (from `content_block_start`) and its `input_json_delta` pieces as a tool-call
    /// fragment indexed by the block's `index`. `message_delta` carries the finish reason and the whole usage:
    /// the input side from `message_start` (or from `message_delta` itself when it repeats it), the output from
    /// `message_delta`. An `error` event is thrown as the provider's error.
    static func event(fromData bytes: [UInt8], state: inout AnthropicStreamState) throws(ChatClientError) -> ChatEvent? {
        guard let value = try? JSONParser.parse(bytes), case .object(let object) = value, let type = object["type"]?.stringValue else {
            throw .malformedStream(line: String(decoding: bytes.prefix(1024), as: UTF8.self),
                                   reason: "the SSE data is not an Anthropic stream event (a JSON object with a type)")
        }
        if type == "ping" { return nil }
        var event = ChatEvent(raw: Data(bytes))
        event.typed = TypedEvent(type: type, object: object)
        let index = object["index"]?.integerValue ?? 0
        switch type {
        case "message_start":
            let message = object["message"]
            event.id = message?["id"]?.stringValue
            event.model = message?["model"]?.stringValue
            state.input = message?["usage"]
        case "content_block_start":
            let block = object["content_block"]
            if block?["type"]?.stringValue == "tool_use" {
                event.choices = [ChatChoiceDelta(toolCalls: [ToolCallDelta(index: index, id: block?["id"]?.stringValue, type: "function",
                                                                          name: block?["name"]?.stringValue ?? "", arguments: "")])]
            }
        case "content_block_delta":
            let delta = object["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta"?: event.choices = [ChatChoiceDelta(content: delta?["text"]?.stringValue ?? "")]
            case "thinking_delta"?: event.choices = [ChatChoiceDelta(reasoning: delta?["thinking"]?.stringValue ?? "")]
            case "input_json_delta"?:
                event.choices = [ChatChoiceDelta(toolCalls: [ToolCallDelta(index: index, arguments: delta?["partial_json"]?.stringValue ?? "")])]
            default: break
            }
        case "message_delta":
            let reason = object["delta"]?["stop_reason"]?.stringValue
            event.choices = [ChatChoiceDelta(finishReason: reason.map(finishReason))]
            if let usage = object["usage"], usage != .null {
                event.usage = Self.usage(output: usage, input: state.input)
                event.unreadableUsage = event.usage == nil
            }
        case "error":
            throw .providerError(object["error"].flatMap(ProviderError.init(json:)) ?? ProviderError(message: "An error occurred during streaming"))
        default:
            break
        }
        return event
    }

    /// The chat finish reason for an Anthropic `stop_reason`.
    static func finishReason(_ reason: String) -> FinishReason {
        switch reason {
        case "end_turn", "stop_sequence", "pause_turn": .stop
        case "max_tokens", "model_context_window_exceeded": .length
        case "tool_use": .toolCalls
        case "refusal": .contentFilter
        default: FinishReason(rawValue: reason)
        }
    }

    /// The usage of a message: `input_tokens` (uncached), `cache_creation_input_tokens` and
    /// `cache_read_input_tokens` add up to the prompt; `output_tokens` is the completion. The input side is read
    /// from `output` when it repeats it (a final `message_delta` or a whole message), else from `input`. Nil
    /// when no output count is given.
    static func usage(output: JSONValue, input: JSONValue?) -> ChatUsage? {
        guard let completion = output["output_tokens"]?.integerValue else { return nil }
        let source = output["input_tokens"] != nil ? output : (input ?? output)
        guard let uncached = source["input_tokens"]?.integerValue else { return nil }
        let written = source["cache_creation_input_tokens"]?.integerValue ?? 0
        let read = source["cache_read_input_tokens"]?.integerValue ?? 0
        let hour = source["cache_creation"]?["ephemeral_1h_input_tokens"]?.integerValue
        return ChatUsage(promptTokens: uncached + written + read, completionTokens: completion, cachedTokens: read,
                         cacheWriteTokens: written, cacheWrite1hTokens: hour)
    }

    /// Decodes a non-streamed Messages answer into the chat shape.
    static func completion(from body: Data) throws(ChatClientError) -> ChatCompletion {
        guard let value = try? JSONParser.parse(Array(body)), case .object = value else {
            throw .malformedStream(line: String(decoding: body.prefix(1024), as: UTF8.self), reason: "the response is not an Anthropic message")
        }
        if value["type"]?.stringValue == "error" {
            throw .providerError(value["error"].flatMap(ProviderError.init(json:)) ?? ProviderError(message: "An error occurred"))
        }
        var text: String?
        var reasoning: String?
        var calls: [ToolCallDelta] = []
        for (index, block) in (value["content"]?.arrayValue ?? []).enumerated() {
            switch block["type"]?.stringValue {
            case "text"?: text = (text ?? "") + (block["text"]?.stringValue ?? "")
            case "thinking"?: reasoning = (reasoning ?? "") + (block["thinking"]?.stringValue ?? "")
            case "tool_use"?:
                calls.append(ToolCallDelta(index: index, id: block["id"]?.stringValue, type: "function", name: block["name"]?.stringValue,
                                           arguments: block["input"].map { String(decoding: $0.encoded(), as: UTF8.self) } ?? "{}"))
            default: break
            }
        }
        let choice = ChatCompletion.Choice(index: 0, role: "assistant", content: text, reasoning: reasoning, toolCalls: calls,
                                           finishReason: value["stop_reason"]?.stringValue.map(finishReason))
        return ChatCompletion(id: value["id"]?.stringValue, model: value["model"]?.stringValue, choices: [choice],
                              usage: value["usage"].flatMap { usage(output: $0, input: nil) }, raw: body)
    }
}
