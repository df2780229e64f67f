/// The error a provider put in its response body: OpenAI's `{"error": {message, type, param, code}}`
/// or Ollama's `{"error": "message"}`.
public struct ProviderError: Sendable, Hashable, CustomStringConvertible {
    /// The provider's human-readable message.
    public var message: String
    /// OpenAI's error `type` (for example `invalid_request_error`, `insufficient_quota`); nil for Ollama.
    public var type: String?
    /// OpenAI's error `code` (for example `rate_limit_exceeded`, `context_length_exceeded`), as text.
    public var code: String?
    /// OpenAI's error `param` (the offending request field), when given.
    public var param: String?

    /// Makes a provider error from its parts.
    public init(message: String, type: String? = nil, code: String? = nil, param: String? = nil) {
        self.message = message
        self.type = type
        self.code = code
        self.param = param
    }

    public var description: String {
        var text = message
        if let type { text += " (type: \(type))" }
        if let code { text += " (code: \(code))" }
        return text
    }
}

/// Which deadline of a transfer ran out.
public enum TimeoutKind: String, Sendable, Hashable {
    /// The TCP (and TLS) connection was not established in time.
    case connect
    /// The connection was up but no response byte arrived in time.
    case firstByte
    /// The response started but the gap between two pieces of data was too long.
    case idle
}

/// Everything that can go wrong between TokenMeter and an upstream chat provider.
public enum ChatClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request could not be built (bad base URL, request body not a JSON object, ...).
    case invalidRequest(reason: String)
    /// No connection to the upstream: name resolution failed or the connection was refused.
    case connectFailed(url: String, reason: String)
    /// The TLS handshake or certificate check failed.
    case tls(reason: String)
    /// The upstream answered with a non-2xx status; `error` is the provider's parsed error body
    /// (nil when the body was not a recognised error shape) and `body` its first 4 KiB as text.
    case httpStatus(code: Int, error: ProviderError?, body: String)
    /// A line of the response stream could not be understood; `line` is the offending line
    /// (at most 1 KiB of it).
    case malformedStream(line: String, reason: String)
    /// A deadline ran out; `seconds` is the configured limit.
    case timeout(TimeoutKind, seconds: Double)
    /// The consumer cancelled the stream (task cancellation or dropping the iterator).
    case cancelled
    /// The provider reported an error in the middle of the stream.
    case providerError(ProviderError)
    /// The connection broke, or the stream ended before the provider said it was complete.
    case connectionLost(reason: String)
    /// The client was shut down while this transfer was running.
    case clientShutdown
    /// Any other libcurl failure, with its CURLcode and message.
    case transport(code: Int, message: String)

    public var description: String {
        switch self {
        case .invalidRequest(let reason):
            return "invalid request: \(reason)"
        case .connectFailed(let url, let reason):
            return "could not connect to \(url): \(reason); check the base URL and that the upstream is running"
        case .tls(let reason):
            return "TLS failure: \(reason); check the URL scheme and CA settings (CURL_CA_BUNDLE / SSL_CERT_FILE)"
        case .httpStatus(let code, let error, let body):
            if let error { return "upstream answered HTTP \(code): \(error)" }
            return "upstream answered HTTP \(code): \(body.prefix(200))"
        case .malformedStream(let line, let reason):
            return "malformed upstream stream (\(reason)): \(line.prefix(200))"
        case .timeout(let kind, let seconds):
            switch kind {
            case .connect: return "connecting to the upstream took longer than \(seconds) s"
            case .firstByte: return "the upstream sent no response within \(seconds) s"
            case .idle: return "the upstream stream stalled for more than \(seconds) s"
            }
        case .cancelled:
            return "the stream was cancelled"
        case .providerError(let error):
            return "the upstream reported an error mid-stream: \(error)"
        case .connectionLost(let reason):
            return "the upstream connection was lost: \(reason)"
        case .clientShutdown:
            return "the chat client was shut down during the request"
        case .transport(let code, let message):
            return "transport error \(code): \(message)"
        }
    }
}
