import Foundation
import TokenMeterClient
import TokenMeterJSON

/// Builds the OpenAI `chat.completion.chunk` objects TokenMeter writes itself: the trimmed last delta and
/// the final chunk of a budget cut, a usage chunk, and every chunk of an Ollama-native upstream
/// (translated). Chunks share one `id`, `created` and `model`, taken from the upstream's first event when it
/// carries them, so the chunks TokenMeter writes read like the upstream's own.
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

    /// Adopts the identity an OpenAI-compatible upstream gave its first chunk (read by the client's
    /// chunk scanner, so nothing is parsed again here).
    mutating func adopt(_ event: ChatEvent) {
        if let id = event.id { self.id = id }
        if let created = event.created { self.created = created }
        if let model = event.model { self.model = model }
        systemFingerprint = event.systemFingerprint
    }

    private func envelope(choices: [JSONValue], usage: JSONValue, extra: JSONObject = [:]) -> Data {
        var object: JSONObject = [
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
        ]
        if let systemFingerprint { object["system_fingerprint"] = .string(systemFingerprint) }
        object["choices"] = .array(choices)
        object["usage"] = usage
        for (key, value) in extra { object[key] = value }
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
            "prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
            "total_tokens": .int(promptTokens + completionTokens),
        ]
        if let cachedTokens { usage["prompt_tokens_details"] = ["cached_tokens": .int(cachedTokens)] }
        return envelope(choices: [], usage: .object(usage))
    }

    /// The delta of choice 0 of `event`, with `content` as its text. `contentOnly` leaves out the tool-call
    /// fragments and reasoning (the trimmed last delta of a cut carries only the text that fits).
    static func delta(of event: ChatEvent, includeRole: Bool, content: String?, contentOnly: Bool = false) -> JSONObject {
        var delta: JSONObject = [:]
        if includeRole { delta["role"] = "assistant" }
        if let content { delta["content"] = .string(content) }
        guard !contentOnly else { return delta }
        if let reasoning = event.choices.first?.reasoning, !reasoning.isEmpty { delta["reasoning"] = .string(reasoning) }
        let calls = event.toolCalls
        if !calls.isEmpty {
            delta["tool_calls"] = .array(calls.map { call in
                var object: JSONObject = ["index": .int(call.index)]
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
}
