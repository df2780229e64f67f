/// Why a request does not fit a model's context, as `CatalogModel.contextOverflow(promptTokens:outputTokens:)`
/// finds it. The gateway answers either with 400 `context_length_exceeded`; `tokenmeter estimate` warns.
public enum ContextOverflow: Sendable, Equatable {
    /// The prompt is longer than the model's largest input (`maxInputTokens`), whatever the output cap.
    case inputTooLong(promptTokens: Int, maxInputTokens: Int)
    /// The prompt plus the requested output cap are more than the whole context (`contextWindow`), or the
    /// prompt fills it and leaves no room for any output.
    case contextExceeded(promptTokens: Int, outputTokens: Int, contextWindow: Int)

    /// The limit that was passed, in tokens.
    public var limit: Int {
        switch self {
        case .inputTooLong(_, let limit), .contextExceeded(_, _, let limit): limit
        }
    }
}
