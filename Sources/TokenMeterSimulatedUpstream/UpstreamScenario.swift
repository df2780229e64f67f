/// What the simulated upstream answers to one request: the stream's content and pacing, and an optional
/// fault. The wire format follows the request path (`…/chat/completions`: OpenAI SSE; `…/responses`: OpenAI
/// Responses events; `…/v1/messages`: Anthropic Messages events; `/api/chat`: Ollama NDJSON), and
/// `stream: false` in the request gets one JSON body.
///
/// Each chunk counts as one completion token. The request's output cap (`max_completion_tokens`, else
/// `max_tokens`; Ollama's `options.num_predict`) is honoured as a provider does: an answer that would pass it
/// is cut at the cap and ends with finish reason `"length"`.
public struct UpstreamScenario: Sendable, Hashable {
    /// A failure to inject.
    public enum Fault: Sendable, Hashable {
        /// Close the connection abruptly after writing `afterChunks` content chunks.
        case dropConnection(afterChunks: Int)
        /// Reset the connection (TCP RST: `SO_LINGER` 0, then close) after writing `afterChunks` content
        /// chunks, as a crashed or killed upstream host does.
        case resetConnection(afterChunks: Int)
        /// Answer with this HTTP status and an error body in the request format's style (OpenAI:
        /// `{"error":{message,type,param,code}}`; Ollama: `{"error":"message"}`).
        case status(Int, message: String, type: String = "server_error", code: String? = nil)
        /// Write `afterChunks` content chunks, then go silent with the connection open.
        case stall(afterChunks: Int)
        /// After `afterChunks` content chunks, send a line that is not JSON.
        case malformedLine(afterChunks: Int)
        /// After `afterChunks` content chunks, send the provider's mid-stream error event/line
        /// (`data: {"error":{…}}` or `{"error":"…"}`) and end the response.
        case midStreamError(afterChunks: Int, message: String)
        /// Send all chunks but end the response without the end-of-stream marker or finish reason.
        case missingEndMarker
    }

    /// The content deltas, one per chunk, in order.
    public var chunks: [String]
    /// Pause before each content chunk.
    public var interval: Duration
    /// Pause before sending the response head (models "slow headers").
    public var headerDelay: Duration
    /// The finish reason of the final choice chunk (`"length"` instead when the request's output cap cut the answer).
    public var finishReason: String
    /// Prompt tokens to report in usage (OpenAI usage chunk when the request asked for it; Ollama's
    /// `prompt_eval_count`). Completion tokens reported are `reasoningTokens + chunks.count` (OpenAI) or
    /// `chunks.count` (Ollama's `eval_count`).
    public var promptTokens: Int
    /// Hidden reasoning tokens the model spends before its visible answer, as OpenAI's reasoning models do
    /// (OpenAI format only): never streamed, but billed, so reported in usage within `completion_tokens` and
    /// as `completion_tokens_details.reasoning_tokens`. They come out of the output cap first. Ollama
    /// streams a model's reasoning visibly, so its answers ignore this.
    public var reasoningTokens: Int
    /// Cached prompt tokens to report (OpenAI only), when non-nil.
    public var cachedTokens: Int?
    /// Whether a streamed OpenAI answer ends with the usage chunk when the request asks for
    /// `stream_options.include_usage`; false plays an OpenAI-compatible server that ignores the option, so
    /// whoever reads the stream must count the tokens itself. Ollama's last line always carries its counts.
    public var sendsUsage: Bool
    /// The fault to inject, if any.
    public var fault: Fault?
    /// Names the OpenAI usage counts `input_tokens` / `output_tokens` instead of `prompt_tokens` /
    /// `completion_tokens`, as some OpenAI-compatible servers do: a usage object the client cannot read.
    public var renamesUsageFields = false
    /// The `service_tier` the OpenAI chunks report. nil: the tier the request asked for, as OpenAI echoes it
    /// (`auto` and absent become `default`).
    public var servedTier: String?
    /// Prompt tokens to report as written to the provider's cache (Anthropic's `cache_creation_input_tokens`),
    /// `cacheWrite1hTokens` of them for one hour; part of `promptTokens`.
    public var cacheWriteTokens = 0
    /// Of `cacheWriteTokens`, those written for one hour.
    public var cacheWrite1hTokens = 0
    /// A function call the answer ends with, after its text (OpenAI formats): chat `tool_calls` deltas, or a
    /// Responses `function_call` item. Each argument piece counts as one more output token.
    public var functionCall: ScriptedFunctionCall?

    /// Makes a scenario; the default is a short, fast, well-formed stream.
    public init(
        chunks: [String] = ["Hello", ",", " world", "!"], interval: Duration = .zero, headerDelay: Duration = .zero,
        finishReason: String = "stop", promptTokens: Int = 9, reasoningTokens: Int = 0, cachedTokens: Int? = nil,
        sendsUsage: Bool = true, fault: Fault? = nil
    ) {
        self.chunks = chunks
        self.interval = interval
        self.headerDelay = headerDelay
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.reasoningTokens = reasoningTokens
        self.cachedTokens = cachedTokens
        self.sendsUsage = sendsUsage
        self.fault = fault
    }

    /// `count` chunks `"t0 "`, `"t1 "`, … paced by `interval`.
    public static func counting(_ count: Int, interval: Duration = .zero, fault: Fault? = nil) -> UpstreamScenario {
        UpstreamScenario(chunks: (0..<count).map { "t\($0) " }, interval: interval, fault: fault)
    }

    /// The full text the chunks spell.
    public var text: String { chunks.joined() }

    /// Output tokens the answer reports: hidden reasoning, one per chunk, one per function-call argument piece.
    var outputTokens: Int { reasoningTokens + chunks.count + (functionCall?.argumentChunks.count ?? 0) }
}

/// A function call a scripted answer makes: its name and call id, and its JSON arguments in pieces (one
/// streamed delta each).
public struct ScriptedFunctionCall: Sendable, Hashable {
    /// The function's name.
    public var name: String
    /// The call id (`call_…`).
    public var callID: String
    /// The arguments' JSON text, in the pieces it streams in.
    public var argumentChunks: [String]

    /// Makes a call.
    public init(name: String, callID: String = "call_simulated", argumentChunks: [String]) {
        self.name = name
        self.callID = callID
        self.argumentChunks = argumentChunks
    }

    /// The whole arguments text.
    public var arguments: String { argumentChunks.joined() }
}
