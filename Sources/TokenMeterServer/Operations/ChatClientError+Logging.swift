import TokenMeterClient

extension ChatClientError {
    /// The error as the server logs it: what failed, without anything the upstream sent in a body. A
    /// malformed line can hold completion text, and an error body or message can echo the prompt or quote
    /// a key, so of those only the HTTP status and OpenAI's error `type` and `code` are kept.
    var logDescription: String {
        func kind(_ error: ProviderError?) -> String {
            guard let error else { return "" }
            return " (type \(error.type ?? "-"), code \(error.code ?? "-"))"
        }
        switch self {
        case .httpStatus(let code, let error, _): return "upstream answered HTTP \(code)\(kind(error))"
        case .malformedStream(_, let reason): return "malformed upstream stream (\(reason))"
        case .providerError(let error): return "the upstream reported an error mid-stream\(kind(error))"
        default: return description
        }
    }
}
