import Foundation
import TokenMeterClient
import TokenMeterLedger
import TokenMeterJSON

/// Serves `stream: false`: TokenMeter still streams from the upstream (so metering and the budget cut work
/// the same way), collects the answer, and returns one OpenAI `chat.completion` object.
struct CompletionAssembler {
    let gateway: Gateway
    let admitted: AdmittedRequest

    /// The assembled answer, or the error to answer with, plus the status to settle.
    struct Outcome {
        var result: Result<Data, GatewayError>
        var status: UsageStatus
        var usage: MeteredUsage
    }

    /// Reads the whole stream and builds the response body. Never throws; cancellation (the client left)
    /// ends with `client_cancelled`.
    func run(events: IteratorHandOff, stream: ChatStream) async -> Outcome {
        var pipeline = StreamPipeline(admitted: admitted)
        var factory = ChunkFactory(id: admitted.requestID, model: admitted.requestedModel)
        var content = ""
        var sawContent = false
        var toolCalls: [Int: (id: String?, name: String, arguments: String)] = [:]
        var first = true
        var receivedAny = false
        var status = UsageStatus.completed
        var failure: GatewayError?
        let checkpoints = CheckpointPump(store: gateway.store, reservation: admitted.reservation)
        reading: while true {
            let event: ChatEvent?
            do { event = try await events.next() } catch {
                if case .cancelled = error { status = .clientCancelled } else {
                    status = .upstreamError
                    failure = .from(error)
                }
                break
            }
            guard let event else { break }
            receivedAny = true
            if first, admitted.upstream.provider == .openAICompatible { factory.adopt(event.raw) }
            first = false
            switch pipeline.step(for: event) {
            case .usage:
                continue
            case .pass(let e):
                if let c = e.content { content += c; sawContent = true }
                for call in e.toolCalls {
                    var entry = toolCalls[call.index] ?? (nil, "", "")
                    if let id = call.id { entry.id = id }
                    if let name = call.name { entry.name += name }
                    if let args = call.arguments { entry.arguments += args }
                    toolCalls[call.index] = entry
                }
            case .cut(_, let prefix):
                stream.cancel()
                content += prefix
                sawContent = true
                status = .cutByBudget
                break reading
            }
            checkpoints.submit(admitted.usage(completionTokens: pipeline.meteredTokens, provider: nil))
        }
        checkpoints.finish()
        events.close()
        pipeline.deliveredTokens = pipeline.meteredTokens
        // An upstream that failed before sending anything is not billed (as with stream: true).
        let usage = receivedAny || status != .upstreamError
            ? admitted.usage(completionTokens: pipeline.meteredTokens, provider: pipeline.providerUsage) : .zero
        if let failure { return Outcome(result: .failure(failure), status: status, usage: usage) }

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
        let finish = status == .cutByBudget ? "length" : (pipeline.finishReason ?? "stop")
        let billed = usage.billedBy == .provider ? usage.provider! : ProviderUsage(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens)
        var object: JSONObject = [
            "id": .string(factory.id), "object": "chat.completion", "created": .int(factory.created), "model": .string(factory.model),
            "choices": [["index": 0, "message": .object(message), "logprobs": .null, "finish_reason": .string(finish)]],
            "usage": [
                "prompt_tokens": .int(billed.promptTokens), "completion_tokens": .int(billed.completionTokens),
                "total_tokens": .int(billed.promptTokens + billed.completionTokens),
            ],
        ]
        if let fp = factory.systemFingerprint { object["system_fingerprint"] = .string(fp) }
        if status == .cutByBudget {
            object["tokenmeter"] = ["cut_by_budget": true, "completion_tokens": .int(Int64(pipeline.meteredTokens))]
        }
        return Outcome(result: .success(Data(JSONValue.object(object).encoded())), status: status, usage: usage)
    }
}
