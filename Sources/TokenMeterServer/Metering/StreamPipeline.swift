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

        /// Whether this step ends the stream at the budget.
        var isCut: Bool {
            if case .cut = self { return true }
            return false
        }
    }

    /// The request being served.
    let admitted: AdmittedRequest
    /// The completion's meter.
    private(set) var meter: StreamMeter
    /// Completion tokens actually written to the client (updated by the driver after each write).
    var deliveredTokens = 0
    /// The provider's usage, when it reported it.
    private(set) var providerUsage: ChatUsage?
    /// The service tier the provider says served the request, when it says.
    private(set) var servedTier: String?
    /// Whether the provider sent usage in a shape the client could not read (the request is then billed by
    /// the local count).
    private(set) var sawUnreadableUsage = false
    /// The event whose step waits for the hold to grow, and the output tokens it needs held.
    private(set) var waiting: (event: ChatEvent, needs: Int)?

    /// A pipeline for `admitted`.
    init(admitted: AdmittedRequest) {
        self.admitted = admitted
        meter = StreamMeter(encoding: admitted.encoding, limit: admitted.outputGrant, final: !admitted.holdGrows,
                            marginPercent: admitted.model.estimateMarginPercent)
    }

    /// Completion tokens counted so far (all admitted text).
    var meteredTokens: Int { meter.tokens }

    /// Meters one event and says what to deliver; nil when the event would take the output past what the
    /// stream holds and the hold may still grow: ``waiting`` then says how many tokens it needs held; wait
    /// for the hold, then ``resume(limit:final:)`` gives the event's step.
    mutating func step(for event: ChatEvent) -> Step? {
        if let usage = event.usage { providerUsage = usage }
        if let tier = event.serviceTier { servedTier = tier }
        sawUnreadableUsage = sawUnreadableUsage || event.unreadableUsage
        if event.choices.isEmpty, event.usage != nil || event.unreadableUsage { return .usage(event) }
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
        return step(event, meter.admit(metered, trimmable: onlyContent))
    }

    /// The step of the event that waits for the hold (after `.needsHold`), now that the hold covers `limit`
    /// completion tokens; `final` when it cannot grow further.
    mutating func resume(limit: Int, final: Bool) -> Step? {
        guard let (event, _) = waiting else { preconditionFailure("no event waits for the hold") }
        waiting = nil
        return step(event, meter.resume(limit: limit, final: final))
    }

    /// Raises the output the stream may deliver to `limit` tokens (its hold grew in the background).
    mutating func holdGrew(to limit: Int) { meter.raise(to: limit) }

    private mutating func step(_ event: ChatEvent, _ admission: StreamMeter.Admission) -> Step? {
        switch admission {
        case .all:
            return .pass(event)
        case .prefix(let prefix):
            return .cut(event, prefix: prefix)
        case .needs(let total):
            waiting = (event, total)
            return nil
        }
    }
}
