import TokenMeterMoney

/// The most a request may cost and use: its prompt plus the output allowance sent upstream.
public struct UsageEstimate: Sendable, Hashable {
    /// Most the request may cost (exact, pico-USD).
    public var cost: Money
    /// Most billed tokens (prompt + completion) the request may use.
    public var tokens: Int64

    /// An estimate of `cost` and `tokens`.
    public init(cost: Money, tokens: Int64) {
        self.cost = cost
        self.tokens = tokens
    }
}
