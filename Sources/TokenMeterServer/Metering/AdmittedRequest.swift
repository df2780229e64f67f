import TokenMeterCatalog
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterTokenizer

/// A chat request that passed authentication, validation and pre-flight, with its reservation held.
struct AdmittedRequest: Sendable {
    /// The ledger's request id (also the `id` of chunks TokenMeter writes itself).
    let requestID: String
    /// Who pays.
    let key: AuthenticatedKey
    /// The model name as the client sent it.
    let requestedModel: String
    /// The catalog entry it resolved to.
    let model: CatalogModel
    /// The encoding completions are counted in.
    let encoding: Encoding
    /// Prices and prompt count.
    let preflight: Preflight
    /// Completion tokens the reservation holds at admission (`Int.max` when nothing limits); the stream is
    /// cut past what its hold covers.
    let outputGrant: Int
    /// The most completion tokens the stream may ever hold (`Int.max` when nothing limits): its output cap.
    /// When it is above ``outputGrant`` the hold grows as the stream delivers (``HoldGrowth``).
    let outputCeiling: Int
    /// The output cap sent upstream: the budget allowance, the client's own max and the model's limit (for a
    /// hidden-output model: what is held).
    let upstreamMaxTokens: Int?
    /// The held reservation.
    let reservation: Reservation
    /// The user's budget as the reservation's transaction read it, before this request's hold.
    let budget: BudgetStatus
    /// Where the request goes.
    let upstream: UpstreamConfiguration
    /// The body sent upstream (the client's, with the output cap rewritten).
    let upstreamRequest: ChatRequest
    /// Whether the client asked for a stream.
    let streaming: Bool
    /// Whether the client asked for the usage chunk.
    let includeUsage: Bool
    /// For `POST /v1/responses`: the client's Responses request; nil for chat completions.
    let responses: ResponsesRequest?
    /// Whether the upstream was called with its own Responses API, so its events are Responses events.
    let upstreamSpeaksResponses: Bool
    /// For `POST /v1/messages`: the client's Messages request; nil for the other APIs.
    let messages: MessagesRequest?
    /// Whether the upstream is Anthropic, so its events are Messages events.
    let upstreamSpeaksMessages: Bool
    /// For a hidden-output model: the share (percent) of its held output not delivered that is billed when the
    /// provider reports no usage (`billing.unreported_hidden_output_percent`); nil for a model whose output
    /// the gateway sees.
    let hiddenOutputEstimatePercent: Int?

    /// The budget with this request's hold in place (what is left while it runs).
    var budgetWhileHeld: BudgetStatus { budget.committing(cost: reservation.held.cost, tokens: reservation.held.tokens) }

    /// The budget once this request is settled with `usage` (what is left after it).
    func budgetAfter(_ usage: MeteredUsage) -> BudgetStatus { budget.committing(cost: usage.cost, tokens: usage.billedTokens) }

    /// Whether the stream's hold grows as it delivers, rather than holding its whole output cap up front.
    var holdGrows: Bool { outputGrant < outputCeiling }

    /// Prompt tokens counted locally.
    var promptTokens: Int { preflight.promptTokens }

    /// What to record for `completionTokens` delivered, billed by the provider's counts when given, at the
    /// prices of the tier the provider says served the request (`servedTier`; nil: the tier asked for).
    ///
    /// Without them, a hidden-output model has spent output nobody saw: the provider charges its reasoning
    /// tokens but reports none for a stream that was stopped (cut, cancelled, failed, interrupted) or whose
    /// server sends no usage. Billing only the delivered tokens would bill $0 for that work, so the record
    /// adds an estimate: ``hiddenOutputEstimatePercent`` of the output held but not delivered (rounded up; the
    /// hold is the most the provider can have charged, since it is the cap sent upstream), marked as
    /// estimated in the record.
    func usage(completionTokens: Int, provider: ChatUsage?, servedTier: String? = nil) -> MeteredUsage {
        guard let provider else {
            let estimated = hiddenOutputEstimate(delivered: completionTokens)
            let completion = completionTokens + estimated
            var usage = MeteredUsage(promptTokens: Int64(promptTokens), completionTokens: Int64(completion),
                                     cost: preflight.cost(completionTokens: completion))
            usage.estimatedCompletionTokens = Int64(estimated)
            usage.estimatedCost = usage.cost - preflight.cost(completionTokens: completionTokens)
            return usage
        }
        let cached = min(provider.cachedTokens ?? 0, provider.promptTokens)
        let written = min(provider.cacheWriteTokens ?? 0, provider.promptTokens - cached)
        let writes = Preflight.CacheWrites(tokens: written, oneHour: min(provider.cacheWrite1hTokens ?? 0, written))
        let cost = preflight.providerCost(promptTokens: provider.promptTokens, cachedTokens: cached, cacheWrites: writes,
                                          completionTokens: provider.completionTokens, servedTier: servedTier).cost
        return MeteredUsage(
            promptTokens: Int64(promptTokens), completionTokens: Int64(completionTokens),
            provider: ProviderUsage(promptTokens: Int64(provider.promptTokens), completionTokens: Int64(provider.completionTokens),
                                    cachedTokens: provider.cachedTokens.map(Int64.init),
                                    reasoningTokens: provider.reasoningTokens.map(Int64.init)),
            billedBy: .provider, cost: cost)
    }

    /// Hidden output billed as an estimate when `delivered` tokens were delivered and the provider reported no
    /// usage: 0 for a visible-output model, or when nothing bounds the output (no cap and no budget).
    func hiddenOutputEstimate(delivered: Int) -> Int {
        guard let percent = hiddenOutputEstimatePercent, outputGrant != .max, outputGrant > delivered else { return 0 }
        let unseen = outputGrant - delivered
        return unseen / 100 * percent + (unseen % 100 * percent + 99) / 100
    }
}

extension BudgetStatus {
    /// This status with `cost` and `tokens` more held.
    func committing(cost: Money, tokens: Int64) -> BudgetStatus {
        var status = self
        status.heldCost = status.heldCost + cost
        status.heldTokens += tokens
        return status
    }
}
