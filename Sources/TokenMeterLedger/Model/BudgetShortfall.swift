import TokenMeterMoney

/// Why `reserve` refused a request for lack of budget, and how much is left.
public struct BudgetShortfall: Sendable, Hashable, CustomStringConvertible {
    /// The user's name.
    public var userName: String
    /// The month whose budget is exhausted.
    public var period: BillingPeriod
    /// Money left this month, or nil when the USD limit is not the one exceeded and there is none.
    public var remainingCost: Money?
    /// Tokens left this month, or nil when there is no token limit.
    public var remainingTokens: Int64?
    /// What the request asked to reserve.
    public var requested: UsageEstimate

    /// A shortfall value.
    public init(userName: String, period: BillingPeriod, remainingCost: Money?, remainingTokens: Int64?,
                requested: UsageEstimate) {
        self.userName = userName
        self.period = period
        self.remainingCost = remainingCost
        self.remainingTokens = remainingTokens
        self.requested = requested
    }

    public var description: String {
        var left: [String] = []
        if let c = remainingCost { left.append("\(c)") }
        if let t = remainingTokens { left.append("\(t) tokens") }
        return "budget exhausted: user '\(userName)' has \(left.joined(separator: " and ")) left in \(period), "
            + "but the request may use up to \(requested.cost) and \(requested.tokens) tokens; "
            + "lower max_tokens or raise the budget (`tokenmeter users set-budget \(userName) ...`)"
    }
}
