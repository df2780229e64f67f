import TokenMeterMoney

/// A user's budget and what is left of it in one month: the answer of `remaining(userID:)`.
public struct BudgetStatus: Sendable, Hashable {
    /// The user.
    public var userID: Int64
    /// The limits in force.
    public var budget: Budget
    /// The month these figures are for (UTC).
    public var period: BillingPeriod
    /// Cost of usage settled this month (exact).
    public var settledCost: Money
    /// Billed tokens settled this month.
    public var settledTokens: Int64
    /// Number of requests settled this month.
    public var settledRequests: Int64
    /// Of ``settledCost``, the part billed for estimated tokens (hidden reasoning tokens of streams that ended
    /// without the provider's usage), exact.
    public var settledEstimatedCost: Money
    /// Held by live reservations: for each, the larger of its hold and its last checkpoint.
    public var heldCost: Money
    /// Tokens held by live reservations, counted the same way.
    public var heldTokens: Int64
    /// Number of live reservations.
    public var liveReservations: Int64

    /// A status value. `settledEstimatedCost` comes last, with a default of zero, so callers written before
    /// estimates existed keep compiling.
    public init(userID: Int64, budget: Budget, period: BillingPeriod, settledCost: Money, settledTokens: Int64,
                settledRequests: Int64, heldCost: Money, heldTokens: Int64, liveReservations: Int64,
                settledEstimatedCost: Money = .zero) {
        self.userID = userID
        self.budget = budget
        self.period = period
        self.settledCost = settledCost
        self.settledTokens = settledTokens
        self.settledRequests = settledRequests
        self.settledEstimatedCost = settledEstimatedCost
        self.heldCost = heldCost
        self.heldTokens = heldTokens
        self.liveReservations = liveReservations
    }

    /// Settled plus held cost: what counts against the monthly limit.
    public var committedCost: Money { settledCost + heldCost }
    /// Settled plus held tokens: what counts against the monthly token limit.
    public var committedTokens: Int64 { settledTokens + heldTokens }

    /// Money left this month (never negative), or nil when there is no monthly USD limit.
    public var remainingCost: Money? {
        budget.monthlyLimit.map { max(.zero, $0 - committedCost) }
    }

    /// Tokens left this month (never negative), or nil when there is no monthly token limit.
    public var remainingTokens: Int64? {
        budget.monthlyTokenLimit.map { max(0, $0 - committedTokens) }
    }
}
