import Foundation
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger

/// Collects a metered stream into one OpenAI `chat.completion` object (`stream: false`). TokenMeter still
/// streams from the upstream, so metering and the budget cut work as for `stream: true`.
struct ChatCompletionJSON: CollectedAnswer {
    private let admitted: AdmittedRequest
    private var factory: ChunkFactory
    private var adopted = false
    private var content = ""
    private var sawContent = false
    private var toolCalls: [Int: (id: String?, name: String, arguments: String)] = [:]
    private var finishReason: String?
    /// Completion tokens at the budget cut, when the budget ended the answer.
    private var cutAfter: Int?
    /// The error to answer with instead of a completion.
    private(set) var failure: GatewayError?

    init(admitted: AdmittedRequest) {
        self.admitted = admitted
        factory = ChunkFactory(id: admitted.requestID, model: admitted.requestedModel)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        switch step {
        case .usage:
            return
        case .pass(let e):
            adoptIdentity(of: e)
            if let reason = e.finishReason { finishReason = reason.rawValue }
            if let c = e.content {
                content += c
                sawContent = true
            }
            for call in e.toolCalls {
                var entry = toolCalls[call.index] ?? (nil, "", "")
                if let id = call.id { entry.id = id }
                if let name = call.name { entry.name += name }
                if let args = call.arguments { entry.arguments += args }
                toolCalls[call.index] = entry
            }
        case .cut(let e, let prefix):
            adoptIdentity(of: e)
            content += prefix
            sawContent = true
            cutAfter = completionTokens
        }
    }

    mutating func complete() async throws {}

    mutating func fail(_ error: GatewayError) async { failure = error }

    private mutating func adoptIdentity(of event: ChatEvent) {
        guard admitted.upstream.provider == .openAICompatible, !adopted else { return }
        factory.adopt(event)
        adopted = true
    }

    /// The `chat.completion` object, with the usage that was billed (the provider's counts when it reported
    /// them, else TokenMeter's).
    func body(billed usage: MeteredUsage) -> Data {
        var message: JSONObject = ["role": "assistant", "content": sawContent || toolCalls.isEmpty ? .string(content) : .null]
        if !toolCalls.isEmpty {
            message["tool_calls"] = .array(toolCalls.keys.sorted().map { index in
                let call = toolCalls[index]!
                return [
                    "id": .string(call.id ?? "call_\(admitted.requestID)_\(index)"), "type": "function",
                    "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                ]
            })
        }
        let finish = cutAfter != nil ? "length" : (finishReason ?? "stop")
        let billed = usage.billedBy == .provider ? usage.provider!
            : ProviderUsage(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens)
        var object: JSONObject = [
            "id": .string(factory.id), "object": "chat.completion", "created": .int(factory.created), "model": .string(factory.model),
            "choices": [["index": 0, "message": .object(message), "logprobs": .null, "finish_reason": .string(finish)]],
            "usage": [
                "prompt_tokens": .int(billed.promptTokens), "completion_tokens": .int(billed.completionTokens),
                "total_tokens": .int(billed.promptTokens + billed.completionTokens),
            ],
        ]
        if let fp = factory.systemFingerprint { object["system_fingerprint"] = .string(fp) }
        if let cutAfter {
            object["tokenmeter"] = ["cut_by_budget": true, "completion_tokens": .int(cutAfter)]
        }
        return Data(JSONValue.object(object).encoded())
    }
}
