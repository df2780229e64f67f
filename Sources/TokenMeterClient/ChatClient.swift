import Foundation
import Synchronization

/// Streams chat completions from OpenAI-compatible and Ollama upstreams over libcurl.
///
/// One client runs its transfers on its event-loop threads (one by default; each a curl multi handle with
/// its own connection cache, transfers handed out round robin), reusing connections per host; create one
/// per process and share it. Proxy settings come from the
/// environment the way curl reads them (`http_proxy`, `https_proxy`, `no_proxy`); a CA bundle from
/// `CURL_CA_BUNDLE` or `SSL_CERT_FILE` when set, otherwise the system's.
///
/// ```swift
/// let client = try ChatClient()
/// let upstream = Upstream(baseURL: "https://api.openai.com/v1", apiKey: key)
/// let request = ChatRequest(model: "gpt-4o-mini", messages: [.init(role: "user", content: "Hi")])
/// for try await event in client.stream(request, to: upstream) {
///     print(event.content ?? "", terminator: "")
///     if let usage = event.usage { print("\n\(usage.promptTokens) in, \(usage.completionTokens) out") }
/// }
/// ```
public final class ChatClient: Sendable {
    /// Client-wide settings.
    public struct Configuration: Sendable {
        /// Default deadlines for each transfer (overridable per call).
        public var timeouts: ChatTimeouts
        /// How many bytes of decoded events may wait for a slow consumer before the transfer
        /// pauses; default 64 KiB.
        public var bufferLimitBytes: Int
        /// The largest non-streamed response accepted, in bytes; default 32 MiB.
        public var maxResponseBytes: Int
        /// The most idle connections kept open for reuse (CURLMOPT_MAXCONNECTS); default 64.
        public var maxIdleConnections: Int
        /// CA bundle file for TLS; default from `CURL_CA_BUNDLE` or `SSL_CERT_FILE`, else the
        /// system's.
        public var caBundle: String?
        /// How many event-loop threads share the transfers (round robin), each with its own curl multi
        /// handle and idle connections (up to `maxIdleConnections` each); default 1, which serves any
        /// number of streams on one thread. More spread the transfers' CPU over more cores.
        public var eventLoopThreads: Int

        /// Makes a configuration.
        public init(
            timeouts: ChatTimeouts = ChatTimeouts(), bufferLimitBytes: Int = 64 << 10, maxResponseBytes: Int = 32 << 20,
            maxIdleConnections: Int = 64,
            caBundle: String? = ProcessInfo.processInfo.environment["CURL_CA_BUNDLE"] ?? ProcessInfo.processInfo.environment["SSL_CERT_FILE"],
            eventLoopThreads: Int = 1
        ) {
            self.timeouts = timeouts
            self.bufferLimitBytes = bufferLimitBytes
            self.maxResponseBytes = maxResponseBytes
            self.maxIdleConnections = maxIdleConnections
            self.caBundle = caBundle
            self.eventLoopThreads = eventLoopThreads
        }
    }

    /// The settings this client was made with.
    public let configuration: Configuration
    private let loops: [CurlEventLoop]
    private let nextLoop = Atomic<Int>(0)

    /// Starts the client's event-loop threads (`configuration.eventLoopThreads`, at least one).
    public init(configuration: Configuration = Configuration()) throws(ChatClientError) {
        self.configuration = configuration
        var loops: [CurlEventLoop] = []
        for _ in 0..<max(1, configuration.eventLoopThreads) {
            do { loops.append(try CurlEventLoop(maxIdleConnections: configuration.maxIdleConnections)) } catch {
                for loop in loops { loop.shutdown() }
                throw error
            }
        }
        self.loops = loops
    }

    /// Stops the event loops: running transfers end with `.clientShutdown`. Also done on deinit.
    public func shutdown() {
        for loop in loops { loop.shutdown() }
    }

    /// Starts a streamed chat completion. For OpenAI-compatible upstreams the request goes out with
    /// `stream: true` and `stream_options.include_usage: true`; for Ollama it is translated to
    /// `/api/chat`; for a Responses upstream the request must already be a Responses body (it goes out with
    /// `stream: true`). Other fields pass through unchanged. Errors surface from iteration.
    ///
    /// With `holdingLastByte`, the request goes out at once except for the last byte of its body, which waits
    /// for ``ChatStream/releaseLastByte()``: the connection, the headers and nearly all of the body are on their
    /// way while the caller finishes something else (the gateway commits its reservation), yet the upstream,
    /// which cannot parse an incomplete body, has not received a request it could act on or bill.
    /// Cancelling the stream instead closes the connection with the request unfinished.
    public func stream(_ request: ChatRequest, to upstream: Upstream, timeouts: ChatTimeouts? = nil,
                       holdingLastByte: Bool = false) -> ChatStream {
        start(request, to: upstream, mode: .stream, timeouts: timeouts, holdingLastByte: holdingLastByte)
    }

    /// Runs a non-streamed chat completion (`stream: false`) and returns the whole answer in
    /// OpenAI's shape.
    public func complete(_ request: ChatRequest, to upstream: Upstream, timeouts: ChatTimeouts? = nil) async throws(ChatClientError) -> ChatCompletion {
        let stream = start(request, to: upstream, mode: .collect(maxBytes: configuration.maxResponseBytes), timeouts: timeouts)
        var iterator = stream.makeAsyncIterator()
        guard let body = try await iterator.next() else {
            throw .connectionLost(reason: "the upstream sent no response body")
        }
        switch upstream.provider {
        case .openAICompatible: return try OpenAIWire.completion(from: body.raw, decoder: JSONDecoder())
        case .ollama: return try OllamaWire.completion(from: body.raw, decoder: JSONDecoder())
        case .openAIResponses: return try ResponsesWire.completion(from: body.raw)
        case .anthropic: return try AnthropicWire.completion(from: body.raw)
        }
    }

    private func start(_ request: ChatRequest, to upstream: Upstream, mode: TransferRequest.Mode, timeouts: ChatTimeouts?,
                       holdingLastByte: Bool = false) -> ChatStream {
        let streaming: Bool
        if case .stream = mode { streaming = true } else { streaming = false }
        let body: [UInt8]
        switch upstream.provider {
        case .openAICompatible: body = OpenAIWire.requestBody(for: request, stream: streaming)
        case .ollama: body = OllamaWire.requestBody(for: request, stream: streaming)
        case .openAIResponses: body = ResponsesWire.requestBody(for: request, stream: streaming)
        case .anthropic: body = AnthropicWire.requestBody(for: request, stream: streaming)
        }
        var headers = [
            "Content-Type: application/json",
            "Accept: " + (streaming ? (upstream.provider == .ollama ? "application/x-ndjson" : "text/event-stream") : "application/json"),
            "Expect:",  // no 100-continue round trip for large prompts
        ]
        if let key = upstream.apiKey { headers.append(upstream.provider == .anthropic ? "x-api-key: \(key)" : "Authorization: Bearer \(key)") }
        if upstream.provider == .anthropic, !upstream.headers.contains(where: { $0.name.lowercased() == "anthropic-version" }) {
            headers.append("anthropic-version: \(AnthropicWire.version)")
        }
        headers += upstream.headers.map { "\($0.name): \($0.value)" }

        let loop = loops[nextLoop.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
        let transfer = TransferRequest(
            url: upstream.chatURL, headers: headers, body: body, provider: upstream.provider, mode: mode,
            timeouts: timeouts ?? configuration.timeouts, caBundle: configuration.caBundle, holdsLastByte: holdingLastByte)
        let buffer = StreamBuffer(id: loop.inbox.makeID(), limitBytes: configuration.bufferLimitBytes, inbox: loop.inbox)
        if let bad = headers.first(where: { $0.contains("\r") || $0.contains("\n") }) {
            // A line break would let a header value (or API key) inject headers or a request.
            let name = bad.prefix { $0 != ":" }
            buffer.finish(.invalidRequest(reason: "the request header \(name) contains a line break"))
        } else if !loop.inbox.post(.start(transfer, buffer)) {
            buffer.finish(.clientShutdown)
        }
        return ChatStream(buffer: buffer, loop: loop)
    }
}
