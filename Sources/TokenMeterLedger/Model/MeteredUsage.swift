import TokenMeterMoney

/// What a request has used so far (at a checkpoint) or in total (at settle).
///
/// The cost is computed by the caller from the catalog's prices and the billed count; the ledger
/// stores it exactly and sums it, it never prices tokens itself.
public struct MeteredUsage: Sendable, Hashable {
    /// Prompt tokens counted locally by TokenMeter.
    public var promptTokens: Int64
    /// Completion tokens counted locally from the deltas delivered.
    public var completionTokens: Int64
    /// The upstream's own counts, when it reported them.
    public var provider: ProviderUsage?
    /// Which count the cost was computed from. `.provider` requires `provider` to be set.
    public var billedBy: BilledCount
    /// The cost billed for this usage (exact, pico-USD).
    public var cost: Money
    /// Of ``completionTokens``, how many are an estimate rather than a count: hidden output (reasoning
    /// tokens) of a stream that ended without the provider's usage, billed by the gateway's rule.
    public var estimatedCompletionTokens: Int64 = 0
    /// Of ``cost``, the part for ``estimatedCompletionTokens``.
    public var estimatedCost: Money = .zero

    /// Usage billed by the local count.
    public init(promptTokens: Int64, completionTokens: Int64, cost: Money) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.provider = nil
        self.billedBy = .local
        self.cost = cost
    }

    /// Usage with explicit provider counts and billing choice.
    public init(promptTokens: Int64, completionTokens: Int64, provider: ProviderUsage?, billedBy: BilledCount,
                cost: Money) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.provider = provider
        self.billedBy = billedBy
        self.cost = cost
    }

    /// Nothing used yet.
    public static let zero = MeteredUsage(promptTokens: 0, completionTokens: 0, cost: .zero)

    /// Tokens billed: prompt + completion of the count named by `billedBy`.
    public var billedTokens: Int64 {
        switch billedBy {
        case .local: promptTokens + completionTokens
        case .provider: (provider?.promptTokens ?? 0) + (provider?.completionTokens ?? 0)
        }
    }

    /// Refuses negative counts or cost, and provider billing without provider counts.
    public func validate() throws(LedgerError) {
        guard promptTokens >= 0, completionTokens >= 0 else {
            throw .invalidUsage("token counts must be ≥ 0 (prompt \(promptTokens), completion \(completionTokens))")
        }
        guard cost >= .zero else { throw .invalidUsage("the cost \(cost) is negative") }
        guard (0...completionTokens).contains(estimatedCompletionTokens), estimatedCost >= .zero, estimatedCost <= cost else {
            throw .invalidUsage("the estimated part (\(estimatedCompletionTokens) tokens, \(estimatedCost)) must lie within the "
                + "completion (\(completionTokens) tokens) and the cost (\(cost))")
        }
        if let p = provider {
            guard p.promptTokens >= 0, p.completionTokens >= 0, (p.cachedTokens ?? 0) >= 0, (p.reasoningTokens ?? 0) >= 0
            else { throw .invalidUsage("provider token counts must be ≥ 0") }
        } else if billedBy == .provider {
            throw .invalidUsage("billed by the provider's count, but no provider counts were given")
        }
    }
}

/// Token counts reported by the upstream provider.
public struct ProviderUsage: Sendable, Hashable {
    /// Prompt (input) tokens, including cached ones.
    public var promptTokens: Int64
    /// Completion (output) tokens, including reasoning ones.
    public var completionTokens: Int64
    /// Of the prompt tokens, how many were served from the provider's cache, when reported.
    public var cachedTokens: Int64?
    /// Of the completion tokens, how many were reasoning tokens, when reported.
    public var reasoningTokens: Int64?

    /// Provider counts as reported.
    public init(promptTokens: Int64, completionTokens: Int64, cachedTokens: Int64? = nil, reasoningTokens: Int64? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.reasoningTokens = reasoningTokens
    }
}
