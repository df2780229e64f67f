import Foundation
import TokenMeterJSON

/// The steps of one scripted response, in the wire format the request asked for. Content chunks
/// are rendered one at a time as they are written, so a 100,000-chunk scenario costs no memory
/// up front (in tests and benchmarks the upstream shares the process with the client it serves).
struct ResponseScript {
    enum Format {
        /// OpenAI Chat Completions: SSE when streaming.
        case openAI
        /// Ollama `/api/chat`: NDJSON when streaming.
        case ollama
        /// OpenAI Responses `/v1/responses`: typed SSE events when streaming.
        case responses
        /// Anthropic Messages `/v1/messages`: typed SSE events when streaming.
        case anthropic
    }

    enum Step {
        /// Wait before the next step.
        case pause(Duration)
        /// Send the response head.
        case head(status: Int, contentType: String)
        /// Write body bytes (one recorded chunk).
        case chunk(String)
        /// End the response normally; the connection stays open for the next request.
        case end
        /// Close the connection abruptly.
        case close
        /// Reset the connection (RST instead of FIN).
        case reset
        /// Do nothing more; the connection stays open until the client leaves.
        case stall
    }

    private let writer: ChunkWriter
    private let chunks: [String]
    private let interval: Duration
    /// Steps before the content chunks.
    private var prelude: ArraySlice<Step> = []
    /// How many content chunks to send.
    private var contentCount = 0
    private var nextContent = 0
    private var pausedBeforeNext = false
    /// Steps after the content chunks.
    private var epilogue: ArraySlice<Step> = []

    init(scenario: UpstreamScenario, format: Format, streaming: Bool, includeUsage: Bool, model: String) {
        writer = ChunkWriter(format: format, model: model, scenario: scenario)
        chunks = scenario.chunks
        interval = scenario.interval
        var prelude: [Step] = scenario.headerDelay > .zero ? [.pause(scenario.headerDelay)] : []
        defer { self.prelude = prelude[...] }
        if case .status(let status, let message, let type, let code) = scenario.fault {
            prelude += [.head(status: status, contentType: "application/json"), .chunk(writer.errorBody(message: message, type: type, code: code)), .end]
            return
        }
        guard streaming else {
            prelude.append(.head(status: 200, contentType: "application/json"))
            switch scenario.fault {
            case .dropConnection?: prelude.append(.close)
            case .resetConnection?: prelude.append(.reset)
            case .stall?: prelude.append(.stall)
            default: prelude += [.chunk(writer.completeBody()), .end]
            }
            return
        }
        prelude.append(.head(status: 200, contentType: format == .ollama ? "application/x-ndjson" : "text/event-stream"))
        if format == .responses { prelude.append(.chunk(writer.responsesPreamble())) }
        if format == .anthropic { prelude.append(.chunk(writer.anthropicPreamble())) }
        contentCount = chunks.count
        switch scenario.fault {
        case .dropConnection(let after)? where after <= chunks.count:
            contentCount = after
            epilogue = [.close]
        case .resetConnection(let after)? where after <= chunks.count:
            contentCount = after
            epilogue = [.reset]
        case .stall(let after)? where after <= chunks.count:
            contentCount = after
            epilogue = [.stall]
        case .malformedLine(let after)? where after <= chunks.count:
            contentCount = after
            epilogue = [.chunk(writer.malformedLine()), .end]
        case .midStreamError(let after, let message)? where after <= chunks.count:
            contentCount = after
            epilogue = [.chunk(writer.midStreamError(message)), .end]
        case .missingEndMarker?:
            epilogue = [.end]
        default:
            epilogue = (writer.trailer(includeUsage: includeUsage && scenario.sendsUsage).map(Step.chunk) + [.end])[...]
        }
    }

    /// The next step, nil when the script is done.
    mutating func next() -> Step? {
        if let step = prelude.popFirst() { return step }
        if nextContent < contentCount {
            if interval > .zero, !pausedBeforeNext {
                pausedBeforeNext = true
                return .pause(interval)
            }
            pausedBeforeNext = false
            defer { nextContent += 1 }
            return .chunk(writer.contentChunk(chunks[nextContent], index: nextContent))
        }
        return epilogue.popFirst()
    }
}

/// Renders the wire text of each chunk.
struct ChunkWriter {
    let format: ResponseScript.Format
    let model: String
    let scenario: UpstreamScenario

    func quoted(_ text: String) -> String { JSONValue.quoted(text) }

    private func sse(_ json: String) -> String { "data: \(json)\n\n" }

    var openAIPrefix: String {
        let tier = scenario.servedTier.map { #","service_tier":\#(quoted($0))"# } ?? ""
        return #"{"id":"chatcmpl-simulated","object":"chat.completion.chunk","created":1694268190,"model":\#(quoted(model)),"system_fingerprint":"fp_simulated""# + tier
    }

    private var ollamaPrefix: String {
        #"{"model":\#(quoted(model)),"created_at":"2024-01-01T00:00:00.000000000Z""#
    }

    func contentChunk(_ content: String, index: Int) -> String {
        let first = index == 0
        switch format {
        case .openAI:
            let role = first ? #""role":"assistant","# : ""
            return sse(openAIPrefix + #","choices":[{"index":0,"delta":{\#(role)"content":\#(quoted(content))},"logprobs":null,"finish_reason":null}],"usage":null}"#)
        case .ollama:
            return ollamaPrefix + #","message":{"role":"assistant","content":\#(quoted(content))},"done":false}"# + "\n"
        case .responses:
            return responsesDelta(content, index: index)
        case .anthropic:
            return anthropicDelta(content)
        }
    }

    var usageJSON: String {
        let cached = scenario.cachedTokens.map { #","prompt_tokens_details":{"cached_tokens":\#($0),"audio_tokens":0}"# } ?? ""
        let completion = scenario.outputTokens
        let total = scenario.promptTokens + completion
        if scenario.renamesUsageFields {
            return #"{"input_tokens":\#(scenario.promptTokens),"output_tokens":\#(completion),"total_tokens":\#(total)}"#
        }
        return #"{"prompt_tokens":\#(scenario.promptTokens),"completion_tokens":\#(completion),"total_tokens":\#(total)\#(cached),"completion_tokens_details":{"reasoning_tokens":\#(scenario.reasoningTokens)}}"#
    }

    func trailer(includeUsage: Bool) -> [String] {
        switch format {
        case .openAI:
            var lines = scenario.functionCall.map(chatToolCallChunks) ?? []
            let finish = scenario.functionCall != nil && scenario.finishReason == "stop" ? "tool_calls" : scenario.finishReason
            lines.append(sse(openAIPrefix + #","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":\#(quoted(finish))}],"usage":null}"#))
            if includeUsage { lines.append(sse(openAIPrefix + #","choices":[],"usage":\#(usageJSON)}"#)) }
            lines.append("data: [DONE]\n\n")
            return lines
        case .ollama:
            return [ollamaFinal(content: "") + "\n"]
        case .responses:
            return responsesTrailer()
        case .anthropic:
            return anthropicTrailer()
        }
    }

    private func ollamaFinal(content: String) -> String {
        ollamaPrefix + #","message":{"role":"assistant","content":\#(quoted(content))},"done":true,"done_reason":\#(quoted(scenario.finishReason)),"total_duration":1000000,"load_duration":1000,"prompt_eval_count":\#(scenario.promptTokens),"prompt_eval_duration":1000,"eval_count":\#(scenario.chunks.count),"eval_duration":1000000}"#
    }

    func completeBody() -> String {
        switch format {
        case .openAI:
            return #"{"id":"chatcmpl-simulated","object":"chat.completion","created":1694268190,"model":\#(quoted(model)),"choices":[{"index":0,"message":{"role":"assistant","content":\#(quoted(scenario.text)),"refusal":null},"logprobs":null,"finish_reason":\#(quoted(scenario.finishReason))}],"usage":\#(usageJSON)}"#
        case .ollama:
            return ollamaFinal(content: scenario.text)
        case .responses:
            return responseObject(final: true)
        case .anthropic:
            return anthropicMessage()
        }
    }

    func errorBody(message: String, type: String, code: String?) -> String {
        switch format {
        case .openAI, .responses:
            return #"{"error":{"message":\#(quoted(message)),"type":\#(quoted(type)),"param":null,"code":\#(code.map(quoted) ?? "null")}}"#
        case .anthropic:
            return #"{"type":"error","error":{"type":\#(quoted(type)),"message":\#(quoted(message))}}"#
        case .ollama:
            return #"{"error":\#(quoted(message))}"#
        }
    }

    func malformedLine() -> String {
        switch format {
        case .openAI, .responses, .anthropic: return "data: {\"id\":\"chatcmpl-simulated\",\"choices\":[{\"delta\":{\"content\":\"oops\n\n"
        case .ollama: return "{\"model\":\"x\",\"message\":{\"content\":\"oops\n"
        }
    }

    func midStreamError(_ message: String) -> String {
        switch format {
        case .openAI: return sse(#"{"error":{"message":\#(quoted(message)),"type":"server_error","param":null,"code":null}}"#)
        case .responses: return responsesError(message)
        case .anthropic: return "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\(quoted(message))}}\n\n"
        case .ollama: return #"{"error":\#(quoted(message))}"# + "\n"
        }
    }
}
