import TokenMeterMoney

/// A user's settled usage over one month: the body of `GET /v1/usage` and `tokenmeter users show`.
public struct UsageSummary: Sendable, Hashable {
    /// Settled usage of one model.
    public struct ModelUsage: Sendable, Hashable {
        /// Model name as requested.
        public var model: String
        /// Requests settled.
        public var requests: Int64
        /// Prompt tokens counted locally.
        public var promptTokens: Int64
        /// Completion tokens counted locally.
        public var completionTokens: Int64
        /// Tokens billed (by the provider's count where it reported one).
        public var billedTokens: Int64
        /// Cost billed (exact).
        public var cost: Money

        /// A per-model total.
        public init(model: String, requests: Int64, promptTokens: Int64, completionTokens: Int64,
                    billedTokens: Int64, cost: Money) {
            self.model = model
            self.requests = requests
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.billedTokens = billedTokens
            self.cost = cost
        }
    }

    /// The user.
    public var userID: Int64
    /// The month (UTC).
    public var period: BillingPeriod
    /// Per-model totals, by model name.
    public var models: [ModelUsage]

    /// A summary value.
    public init(userID: Int64, period: BillingPeriod, models: [ModelUsage]) {
        self.userID = userID
        self.period = period
        self.models = models
    }

    /// Requests settled in the month.
    public var requests: Int64 { models.reduce(0) { $0 + $1.requests } }
    /// Tokens billed in the month.
    public var billedTokens: Int64 { models.reduce(0) { $0 + $1.billedTokens } }
    /// Cost billed in the month (exact).
    public var cost: Money { models.reduce(.zero) { $0 + $1.cost } }
}
