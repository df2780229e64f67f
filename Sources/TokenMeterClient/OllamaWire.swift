import Foundation
import TokenMeterJSON

/// Ollama native `/api/chat` wire format (docs/reference/WIRE-FORMATS.md#ollama): translation of
/// an OpenAI-shaped request, and of NDJSON lines into OpenAI-shaped events.
enum OllamaWire {
    /// The `/api/chat` body for an OpenAI-shaped request. Messages keep unknown keys; OpenAI
    /// content parts become text plus base64 `images`; tool-call arguments become JSON objects;
    /// sampling fields move into `options` (`max_tokens` → `num_predict`); `response_format`
    /// becomes `format`. A caller's own `options`, `keep_alive` and `think` pass through.
    static func requestBody(for request: ChatRequest, stream: Bool) -> [UInt8] {
        let source = request.body
        var body: JSONObject = ["stream": .bool(stream)]
        body["model"] = source["model"]
        body["messages"] = .array(request.messages.map(translate(message:)))
        for key in ["tools", "keep_alive", "think", "format"] { body[key] = source[key] }
        if body["think"] == nil, let effort = source["reasoning_effort"] { body["think"] = effort }

        var options: JSONObject = [:]
        if case .object(let given)? = source["options"] { options = given }
        if let limit = source["max_completion_tokens"] ?? source["max_tokens"] { options["num_predict"] = limit }
        for key in ["temperature", "top_p", "seed", "frequency_penalty", "presence_penalty"] {
            if let value = source[key] { options[key] = value }
        }
        if let stop = source["stop"] { options["stop"] = stop.stringValue.map { .array([.string($0)]) } ?? stop }
        if !options.isEmpty { body["options"] = .object(options) }

        if body["format"] == nil, let format = source["response_format"] {
            switch format["type"]?.stringValue {
            case "json_object": body["format"] = "json"
            case "json_schema": body["format"] = format["json_schema"]?["schema"]
            default: break
            }
        }
        return JSONValue.object(body).encoded()
    }

    private static func translate(message: JSONValue) -> JSONValue {
        guard case .object(var object) = message else { return message }
        if case .array(let parts)? = object["content"] {
            var text = ""
            var images: [JSONValue] = []
            for part in parts {
                if let piece = part["text"]?.stringValue { text += piece }
                if let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue,
                    let comma = url.firstIndex(of: ","), url.hasPrefix("data:")
                {
                    images.append(.string(String(url[url.index(after: comma)...])))
                }
            }
            object["content"] = .string(text)
            if !images.isEmpty { object["images"] = .array(images) }
        }
        if case .array(let calls)? = object["tool_calls"] {
            object["tool_calls"] = .array(calls.map { call in
                guard case .object(var function)? = call["function"] else { return call }
                if let text = function["arguments"]?.stringValue {
                    function["arguments"] = (try? JSONParser.parse(Array(text.utf8))) ?? .object([:])
                }
                return ["function": .object(function)]
            })
        }
        return .object(object)
    }

    /// Decodes one NDJSON line into an event, or throws the provider's error line.
    /// `toolCallsSeen` tracks whether the stream called tools, to report `tool_calls` as the
    /// finish reason the way Ollama's own OpenAI layer does.
    static func event(fromLine bytes: [UInt8], decoder: JSONDecoder, toolCallsSeen: inout Bool) throws(ChatClientError) -> (event: ChatEvent, done: Bool) {
        let raw = Data(bytes)
        let line: LineWire
        do {
            line = try decoder.decode(LineWire.self, from: raw)
        } catch {
            throw .malformedStream(line: String(decoding: bytes.prefix(1024), as: UTF8.self), reason: "the NDJSON line is not an Ollama chat JSON object")
        }
        if let error = line.error {
            throw .providerError(ProviderError(json: error) ?? ProviderError(message: "An error occurred during streaming"))
        }
        let done = line.done ?? false
        let choice = line.choice(toolCallsSeen: &toolCallsSeen, done: done)
        return (ChatEvent(model: line.model, choices: [choice], usage: done ? line.usage : nil, raw: raw), done)
    }

    /// Decodes a non-streamed `/api/chat` answer.
    static func completion(from body: Data, decoder: JSONDecoder) throws(ChatClientError) -> ChatCompletion {
        guard let line = try? decoder.decode(LineWire.self, from: body) else {
            throw .malformedStream(line: String(decoding: body.prefix(1024), as: UTF8.self), reason: "the response is not an Ollama chat JSON object")
        }
        if let error = line.error {
            throw .providerError(ProviderError(json: error) ?? ProviderError(message: "An error occurred"))
        }
        var toolCallsSeen = false
        let delta = line.choice(toolCallsSeen: &toolCallsSeen, done: true)
        let choice = ChatCompletion.Choice(
            index: 0, role: delta.role ?? "assistant", content: delta.content, reasoning: delta.reasoning,
            toolCalls: delta.toolCalls, finishReason: delta.finishReason)
        return ChatCompletion(model: line.model, choices: [choice], usage: line.usage, raw: body)
    }

    // MARK: Wire shapes

    struct LineWire: Decodable {
        var model: String?
        var message: MessageWire?
        var done: Bool?
        var done_reason: String?
        var prompt_eval_count: Int?
        var eval_count: Int?
        var error: JSONValue?

        var usage: ChatUsage? {
            guard prompt_eval_count != nil || eval_count != nil else { return nil }
            return ChatUsage(promptTokens: prompt_eval_count ?? 0, completionTokens: eval_count ?? 0)
        }

        func choice(toolCallsSeen: inout Bool, done: Bool) -> ChatChoiceDelta {
            let calls = (message?.tool_calls ?? []).enumerated().map { offset, call in
                ToolCallDelta(
                    index: call.function?.index ?? offset, id: call.id, type: "function", name: call.function?.name,
                    arguments: call.function?.arguments.map { String(decoding: $0.encoded(), as: UTF8.self) } ?? "{}")
            }
            if !calls.isEmpty { toolCallsSeen = true }
            var finish: FinishReason?
            if done {
                let reason = done_reason ?? "stop"
                finish = FinishReason(rawValue: reason == "stop" && toolCallsSeen ? "tool_calls" : reason)
            }
            let content = message?.content
            return ChatChoiceDelta(
                index: 0, role: message?.role, content: content, reasoning: message?.thinking,
                toolCalls: calls, finishReason: finish)
        }
    }

    struct MessageWire: Decodable {
        var role: String?
        var content: String?
        var thinking: String?
        var tool_calls: [ToolCallWire]?
    }

    struct ToolCallWire: Decodable {
        struct Function: Decodable {
            var index: Int?
            var name: String?
            var arguments: JSONValue?
        }
        var id: String?
        var function: Function?
    }
}
