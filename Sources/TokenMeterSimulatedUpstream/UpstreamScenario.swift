/// What the simulated upstream answers to one request: the stream's content and pacing, and an optional
/// fault. The wire format follows the request path (`…/chat/completions`: OpenAI SSE;
/// `/api/chat`: Ollama NDJSON), and `stream: false` in the request gets one JSON body.
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
    /// The finish reason of the final choice chunk.
    public var finishReason: String
    /// Prompt tokens to report in usage (OpenAI usage chunk when the request asked for it; Ollama's
    /// `prompt_eval_count`). Completion tokens reported are `chunks.count`.
    public var promptTokens: Int
    /// Cached prompt tokens to report (OpenAI only), when non-nil.
    public var cachedTokens: Int?
    /// Whether a streamed OpenAI answer ends with the usage chunk when the request asks for
    /// `stream_options.include_usage`; false plays an OpenAI-compatible server that ignores the option, so
    /// whoever reads the stream must count the tokens itself. Ollama's last line always carries its counts.
    public var sendsUsage: Bool
    /// The fault to inject, if any.
    public var fault: Fault?

    /// Makes a scenario; the default is a short, fast, well-formed stream.
    public init(
        chunks: [String] = ["Hello", ",", " world", "!"], interval: Duration = .zero, headerDelay: Duration = .zero,
        finishReason: String = "stop", promptTokens: Int = 9, cachedTokens: Int? = nil, sendsUsage: Bool = true,
        fault: Fault? = nil
    ) {
        self.chunks = chunks
        self.interval = interval
        self.headerDelay = headerDelay
        self.finishReason = finishReason
        self.promptTokens = promptTokens
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
}
