/// Where and how to reach one chat provider.
public struct Upstream: Sendable, Hashable {
    /// The wire protocol an upstream speaks.
    public enum Provider: String, Sendable, Hashable {
        /// OpenAI-compatible `POST {base}/chat/completions` with SSE streaming (OpenAI, vLLM,
        /// llama.cpp server, Ollama's `/v1`). The base URL includes the `/v1` part.
        case openAICompatible
        /// Ollama's native `POST {base}/api/chat` with NDJSON streaming. The base URL is the
        /// server root, e.g. `http://127.0.0.1:11434`.
        case ollama
        /// OpenAI's Responses API: `POST {base}/responses` with typed SSE events (`response.created`,
        /// `response.output_text.delta`, ..., `response.completed`). The base URL includes the `/v1` part.
        case openAIResponses
        /// Anthropic's Messages API: `POST {base}/v1/messages` with its typed SSE events, the key sent as
        /// `x-api-key` with an `anthropic-version` header. The base URL is the server root as Anthropic's SDKs
        /// take it, e.g. `https://api.anthropic.com` (a base ending in `/v1` works too). The request must
        /// already be a Messages body (``AnthropicWire/messagesRequest(fromChat:)`` translates a chat one).
        case anthropic
    }

    /// The provider's base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434`.
    public var baseURL: String
    /// The wire protocol.
    public var provider: Provider
    /// Sent as `Authorization: Bearer <apiKey>` (Anthropic: `x-api-key`) when set. Never logged.
    public var apiKey: String?
    /// Extra request headers, e.g. `OpenAI-Organization`.
    public var headers: [(name: String, value: String)]

    /// Describes an upstream.
    public init(baseURL: String, provider: Provider = .openAICompatible, apiKey: String? = nil, headers: [(name: String, value: String)] = []) {
        self.baseURL = baseURL
        self.provider = provider
        self.apiKey = apiKey
        self.headers = headers
    }

    /// The full URL chat requests go to.
    public var chatURL: String {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        switch provider {
        case .openAICompatible: return base + "/chat/completions"
        case .ollama: return base + "/api/chat"
        case .openAIResponses: return base + "/responses"
        case .anthropic: return (base.hasSuffix("/v1") ? base : base + "/v1") + "/messages"
        }
    }

    public static func == (lhs: Upstream, rhs: Upstream) -> Bool {
        lhs.baseURL == rhs.baseURL && lhs.provider == rhs.provider && lhs.apiKey == rhs.apiKey
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(baseURL)
        hasher.combine(provider)
        hasher.combine(apiKey)
    }
}

/// Deadlines for one transfer, in seconds.
public struct ChatTimeouts: Sendable, Hashable {
    /// Establishing the TCP/TLS connection.
    public var connect: Double
    /// From the start of the transfer to the first response byte (includes connecting and the
    /// provider's time to process the prompt).
    public var firstByte: Double
    /// The longest allowed gap between two pieces of response data once the response started.
    /// Time the client itself spends paused for backpressure does not count.
    public var idle: Double

    /// Makes timeouts; the defaults suit hosted LLM APIs.
    public init(connect: Double = 10, firstByte: Double = 120, idle: Double = 60) {
        self.connect = connect
        self.firstByte = firstByte
        self.idle = idle
    }
}
