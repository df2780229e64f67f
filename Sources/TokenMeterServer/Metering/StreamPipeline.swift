import TokenMeterClient

/// Decides, event by event, what of an upstream stream reaches the client: meters each delta with a
/// ``StreamMeter`` and turns the stream into ``Step``s that ``MeteredStream`` hands to a wire-format adapter.
struct StreamPipeline {
    /// What to do with one upstream event.
    enum Step {
        /// Deliver the event as it is.
        case pass(ChatEvent)
        /// The provider's usage-only chunk (`choices: []`).
        case usage(ChatEvent)
        /// The budget is spent: deliver `prefix` of the event's content (may be empty), then end the stream
        /// with `finish_reason: "length"`.
        case cut(ChatEvent, prefix: String)
    }

    /// The request being served.
    let admitted: AdmittedRequest
    /// The completion's meter.
    private(set) var meter: StreamMeter
    /// Completion tokens actually written to the client (updated by the driver after each write).
    var deliveredTokens = 0
    /// The provider's usage, when it reported it.
    private(set) var providerUsage: ChatUsage?

    /// A pipeline for `admitted`.
    init(admitted: AdmittedRequest) {
        self.admitted = admitted
        meter = StreamMeter(encoding: admitted.encoding, limit: admitted.budgetAllowance)
    }

    /// Completion tokens counted so far (all admitted text).
    var meteredTokens: Int { meter.tokens }

    /// Meters one event and says what to deliver.
    mutating func step(for event: ChatEvent) -> Step {
        if let usage = event.usage { providerUsage = usage }
        if event.choices.isEmpty, event.usage != nil { return .usage(event) }
        var metered = ""
        var onlyContent = true
        for choice in event.choices {
            if let r = choice.reasoning { metered += r; onlyContent = onlyContent && r.isEmpty }
            if let r = choice.refusal { metered += r; onlyContent = onlyContent && r.isEmpty }
            for call in choice.toolCalls {
                let text = (call.name ?? "") + (call.arguments ?? "")
                metered += text
                onlyContent = onlyContent && text.isEmpty
            }
            if let c = choice.content { metered += c }
        }
        switch meter.admit(metered, trimmable: onlyContent) {
        case .all:
            return .pass(event)
        case .prefix(let prefix):
            return .cut(event, prefix: prefix)
        }
    }
}
