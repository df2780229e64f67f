import TokenMeterMoney

/// Sums of settled usage records over some group (a user, a model, a user-model pair, a day, a month).
///
/// Every field is an exact integer sum computed by SQLite over `usage_records`; `cost` is pico-USD.
/// Local counts (`promptTokens`, `completionTokens`) are TokenMeter's own and exist for every record;
/// provider counts exist only for the records whose upstream reported usage (`providerReportedRequests`).
/// `estimatedCost` and `overrun` are parts of `cost`, never added to it.
public struct UsageTotals: Sendable, Hashable {
    /// Requests settled (usage records).
    public var requests: Int64 = 0
    /// Prompt tokens counted locally by TokenMeter (every record).
    public var promptTokens: Int64 = 0
    /// Completion tokens counted locally by TokenMeter (every record).
    public var completionTokens: Int64 = 0
    /// Requests whose upstream reported its own token counts.
    public var providerReportedRequests: Int64 = 0
    /// Prompt tokens as reported by the provider, summed over `providerReportedRequests`.
    public var providerPromptTokens: Int64 = 0
    /// Completion tokens as reported by the provider, summed over `providerReportedRequests`.
    public var providerCompletionTokens: Int64 = 0
    /// Provider-reported cached prompt tokens; nil when no record of the group reported any figure.
    public var cachedTokens: Int64?
    /// Provider-reported reasoning tokens; nil when no record of the group reported any figure.
    public var reasoningTokens: Int64?
    /// Tokens billed (prompt + completion of the count each record was billed by).
    public var billedTokens: Int64 = 0
    /// Cost billed (exact, pico-USD).
    public var cost: Money = .zero
    /// The part billed from the provider's counts.
    public var billedByProvider = BillingShare()
    /// The part billed from TokenMeter's local counts (the provider reported nothing).
    public var billedLocally = BillingShare()
    /// Requests per outcome (`usage_records.status`).
    public var outcomes = OutcomeCounts()
    /// Of `completionTokens`, how many are an estimate, not a count (hidden reasoning tokens of streams that
    /// ended without the provider's usage).
    public var estimatedCompletionTokens: Int64 = 0
    /// Of `cost`, the part billed for estimated tokens (exact, pico-USD).
    public var estimatedCost: Money = .zero
    /// Of `cost`, what bills came to above their request's hold (exact, pico-USD).
    public var overrun: Money = .zero
    /// Prompt tokens counted locally, over only the `providerReportedRequests` (to compare with
    /// `providerPromptTokens`).
    public var driftLocalPromptTokens: Int64 = 0
    /// Completion tokens counted locally, over only the `providerReportedRequests`.
    public var driftLocalCompletionTokens: Int64 = 0

    /// No usage.
    public init() {}

    /// Adds `other` to these sums. Traps on overflow, as the SQL `SUM` it mirrors fails on it.
    public mutating func add(_ other: UsageTotals) {
        requests += other.requests
        promptTokens += other.promptTokens
        completionTokens += other.completionTokens
        providerReportedRequests += other.providerReportedRequests
        providerPromptTokens += other.providerPromptTokens
        providerCompletionTokens += other.providerCompletionTokens
        cachedTokens = Self.sum(cachedTokens, other.cachedTokens)
        reasoningTokens = Self.sum(reasoningTokens, other.reasoningTokens)
        billedTokens += other.billedTokens
        cost += other.cost
        billedByProvider.add(other.billedByProvider)
        billedLocally.add(other.billedLocally)
        outcomes.add(other.outcomes)
        estimatedCompletionTokens += other.estimatedCompletionTokens
        estimatedCost += other.estimatedCost
        overrun += other.overrun
        driftLocalPromptTokens += other.driftLocalPromptTokens
        driftLocalCompletionTokens += other.driftLocalCompletionTokens
    }

    /// Provider against local counts over the requests with provider counts; nil when there are none (no
    /// drift figure, which is not a drift of 0).
    public var drift: TokenDrift? {
        guard providerReportedRequests > 0 else { return nil }
        return TokenDrift(requests: providerReportedRequests, localPromptTokens: driftLocalPromptTokens,
                          providerPromptTokens: providerPromptTokens, localCompletionTokens: driftLocalCompletionTokens,
                          providerCompletionTokens: providerCompletionTokens)
    }

    /// Whether no request is counted.
    public var isEmpty: Bool { requests == 0 }

    /// The sum of two optional figures: nil only when both are unknown.
    private static func sum(_ a: Int64?, _ b: Int64?) -> Int64? {
        switch (a, b) {
        case (nil, nil): nil
        default: (a ?? 0) + (b ?? 0)
        }
    }
}
