extension CatalogModel {
    /// Whether a prompt of `promptTokens` with an output cap of `outputTokens` (0 when the request sets
    /// none) fits the model, checked as the provider does: the prompt against `maxInputTokens` (when it is
    /// below the context window), then prompt + cap against `contextWindow`, where the prompt must also leave
    /// room for at least one output token. Nil when it fits, or when the model's limits are unknown
    /// (`contextWindow` 0, as for a model outside the catalog).
    public func contextOverflow(promptTokens: Int, outputTokens: Int) -> ContextOverflow? {
        if let maxInput = maxInputTokens, contextWindow <= 0 || maxInput < contextWindow, promptTokens > maxInput {
            return .inputTooLong(promptTokens: promptTokens, maxInputTokens: maxInput)
        }
        guard contextWindow > 0 else { return nil }
        if promptTokens >= contextWindow || promptTokens + outputTokens > contextWindow {
            return .contextExceeded(promptTokens: promptTokens, outputTokens: outputTokens, contextWindow: contextWindow)
        }
        return nil
    }

    /// The most completion tokens that fit beside a prompt of `promptTokens`: `contextWindow − promptTokens`
    /// (0 when the prompt fills the window); nil when the context window is unknown (0).
    public func outputRoom(promptTokens: Int) -> Int? {
        contextWindow > 0 ? max(0, contextWindow - promptTokens) : nil
    }
}
