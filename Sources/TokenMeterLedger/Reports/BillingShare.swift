import TokenMeterMoney

/// The requests, tokens and cost billed from one source of counts (provider-reported or local).
public struct BillingShare: Sendable, Hashable {
    /// Requests billed from this source.
    public var requests: Int64 = 0
    /// Tokens billed from this source.
    public var billedTokens: Int64 = 0
    /// Cost billed from this source (exact, pico-USD).
    public var cost: Money = .zero

    /// Nothing billed.
    public init() {}

    /// A share of `requests` requests, `billedTokens` tokens and `cost`.
    public init(requests: Int64, billedTokens: Int64, cost: Money) {
        self.requests = requests
        self.billedTokens = billedTokens
        self.cost = cost
    }

    /// Adds `other` to this share.
    public mutating func add(_ other: BillingShare) {
        requests += other.requests
        billedTokens += other.billedTokens
        cost += other.cost
    }
}
