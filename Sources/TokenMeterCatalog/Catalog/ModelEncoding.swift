import TokenMeterTokenizer

/// Which tokenizer counts a model's tokens, and whether that count is the provider's own.
public enum ModelEncoding: Sendable, Equatable {
    /// The model's real encoding (`o200k_base` for gpt-4o): counts are what the provider bills.
    case exact(String)
    /// The model's tokenizer is not available here (a local Llama or Qwen); `using` names the
    /// encoding whose count stands in for it, so counts are estimates.
    case approximate(using: String)

    /// The encoding actually run to count tokens, e.g. `"cl100k_base"`.
    public var encodingName: String {
        switch self {
        case .exact(let name), .approximate(using: let name): name
        }
    }

    /// True when counts with this encoding are the provider's own.
    public var isExact: Bool {
        if case .exact = self { return true }
        return false
    }

    /// The encoding names the catalog accepts: the ones TokenMeter's tokenizer implements.
    public static var knownEncodingNames: [String] { EncodingName.allCases.map(\.rawValue) }
}
