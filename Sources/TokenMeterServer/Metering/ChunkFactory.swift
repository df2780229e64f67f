import Foundation
import TokenMeterClient
import TokenMeterJSON

/// Builds the OpenAI `chat.completion.chunk` objects TokenMeter writes itself: the rewritten chunk at a
/// budget cut, the final chunk of a cut, a usage chunk, and every chunk of an Ollama-native upstream
/// (translated). Chunks share one `id`, `created` and `model`, taken from the upstream's first chunk when it
/// is OpenAI-compatible.
struct ChunkFactory: Sendable {
    /// The completion id (`chatcmpl-…`).
    var id: String
    /// Unix seconds, the same on every chunk.
    var created: Int64
    /// The model name shown to the client.
    var model: String
    /// The upstream's system fingerprint, when it sent one.
    var systemFingerprint: String?

    /// A factory for TokenMeter's own ids.
    init(id: String, model: String, created: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.id = id
        self.model = model
        self.created = created
    }

    /// Adopts the identity fields of an upstream OpenAI chunk.
    mutating func adopt(_ raw: Data) {
        guard let chunk = try? JSONParser.parse(raw) else { return }
        if let id = chunk["id"]?.stringValue { self.id = id }
        if let created = chunk["created"]?.intValue { self.created = created }
        if let model = chunk["model"]?.stringValue { self.model = model }
        systemFingerprint = chunk["system_fingerprint"]?.stringValue
    }

    private func envelope(choices: [JSONValue], usage: JSONValue, extra: JSONObject = [:]) -> Data {
        var object: JSONObject = [
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
            "choices": .array(choices), "usage": usage,
        ]
        if let systemFingerprint { object["system_fingerprint"] = .string(systemFingerprint) }
        for (k, v) in extra { object[k] = v }
        return Data(JSONValue.object(object).encoded())
    }

    /// A chunk with one choice's `delta` and finish reason.
    func chunk(delta: JSONObject, finishReason: String?, extra: JSONObject = [:]) -> Data {
        envelope(choices: [[
            "index": 0, "delta": .object(delta), "logprobs": .null,
            "finish_reason": finishReason.map(JSONValue.string) ?? .null,
        ]], usage: .null, extra: extra)
    }

    /// The usage-only chunk sent before `[DONE]` when the client asked for `include_usage` (token counts).
    func usageChunk(promptTokens: Int, completionTokens: Int, cachedTokens: Int? = nil) -> Data {
        var usage: JSONObject = [
            "prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
            "total_tokens": .int(Int64(promptTokens + completionTokens)),
        ]
        if let cachedTokens { usage["prompt_tokens_details"] = ["cached_tokens": .int(Int64(cachedTokens))] }
        return envelope(choices: [], usage: .object(usage))
    }

    /// The delta of a translated (Ollama) event's choice 0.
    static func delta(of event: ChatEvent, includeRole: Bool, content: String?) -> JSONObject {
        var delta: JSONObject = [:]
        if includeRole { delta["role"] = "assistant" }
        if let content { delta["content"] = .string(content) }
        if let reasoning = event.choices.first?.reasoning, !reasoning.isEmpty { delta["reasoning"] = .string(reasoning) }
        let calls = event.toolCalls
        if !calls.isEmpty {
            delta["tool_calls"] = .array(calls.map { call in
                var object: JSONObject = ["index": .int(Int64(call.index))]
                if let id = call.id { object["id"] = .string(id) }
                object["type"] = .string(call.type ?? "function")
                var function: JSONObject = [:]
                if let name = call.name { function["name"] = .string(name) }
                function["arguments"] = .string(call.arguments ?? "")
                object["function"] = .object(function)
                return .object(object)
            })
        }
        return delta
    }

    /// An upstream OpenAI chunk with choice 0's `delta.content` replaced by `content` and its finish reason
    /// cleared (used for the last, trimmed delta of a cut).
    static func rewriting(_ raw: Data, content: String) -> Data? {
        guard case .object(var chunk)? = try? JSONParser.parse(raw),
              case .array(var choices)? = chunk["choices"], case .object(var choice)? = choices.first,
              case .object(var delta)? = choice["delta"] else { return nil }
        delta["content"] = .string(content)
        delta["tool_calls"] = nil
        choice["delta"] = .object(delta)
        choice["finish_reason"] = .null
        choices[0] = .object(choice)
        chunk["choices"] = .array(choices)
        return Data(JSONValue.object(chunk).encoded())
    }
}
