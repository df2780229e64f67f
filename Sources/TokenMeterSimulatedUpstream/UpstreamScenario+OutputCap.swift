import TokenMeterJSON

extension UpstreamScenario {
    /// The scenario as the model answers `request` in `format`, honouring the request's output cap and
    /// echoing its service tier as the provider does. Ollama shows reasoning in the stream, so its answers have no hidden reasoning tokens.
    func answering(_ request: JSONValue?, format: ResponseScript.Format) -> UpstreamScenario {
        var scenario = self
        let cap: Int?
        switch format {
        case .openAI, .responses:
            cap = (format == .responses ? request?["max_output_tokens"] : request?["max_completion_tokens"] ?? request?["max_tokens"])?.integerValue
            if scenario.servedTier == nil {
                let asked = request?["service_tier"]?.stringValue
                scenario.servedTier = asked == nil || asked == "auto" ? "default" : asked
            }
        case .anthropic:
            cap = request?["max_tokens"]?.integerValue
        case .ollama:
            scenario.reasoningTokens = 0
            cap = request?["options"]?["num_predict"]?.integerValue
        }
        // A negative cap means none (Ollama's `num_predict` -1: no limit; OpenAI refuses one).
        return scenario.cut(atOutputCap: cap.flatMap { $0 >= 0 ? $0 : nil })
    }

    /// The scenario cut at `cap` output tokens (nil: no cap): hidden reasoning is spent first, then visible
    /// chunks, one token each, fill what is left; a cut answer ends with finish reason `"length"`.
    func cut(atOutputCap cap: Int?) -> UpstreamScenario {
        guard let cap, reasoningTokens + chunks.count > cap else { return self }
        var cut = self
        cut.reasoningTokens = min(reasoningTokens, cap)
        cut.chunks = Array(chunks.prefix(cap - cut.reasoningTokens))
        cut.finishReason = "length"
        return cut
    }
}
