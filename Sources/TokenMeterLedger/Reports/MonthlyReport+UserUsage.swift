import TokenMeterMoney

extension MonthlyReport {
    /// One user's month: who they are, their budget, and their sums.
    public struct UserUsage: Sendable, Hashable {
        /// The user (status as of the report).
        public var user: User
        /// The budget in force when the report was made.
        public var budget: Budget
        /// The user's sums over the month.
        public var totals: UsageTotals

        /// A user's month.
        public init(user: User, budget: Budget, totals: UsageTotals) {
            self.user = user
            self.budget = budget
            self.totals = totals
        }

        /// Share of the monthly USD limit spent, in basis points (1/100 of a percent, rounded down);
        /// nil when there is no limit or the limit is zero.
        public var costLimitUsedBasisPoints: Int64? {
            guard let limit = budget.monthlyLimit, limit.picoUSD > 0 else { return nil }
            return Self.basisPoints(totals.cost.picoUSD, of: limit.picoUSD)
        }

        /// Share of the monthly token limit used by billed tokens, in basis points (rounded down); nil when
        /// there is no token limit or it is zero.
        public var tokenLimitUsedBasisPoints: Int64? {
            guard let limit = budget.monthlyTokenLimit, limit > 0 else { return nil }
            return Self.basisPoints(totals.billedTokens, of: limit)
        }

        /// ⌊part × 10,000 / whole⌋ without overflow (the product is 128-bit); saturates at `Int64.max`.
        static func basisPoints(_ part: Int64, of whole: Int64) -> Int64 {
            let product = part.multipliedFullWidth(by: 10_000)
            guard product.high < whole else { return .max } // the quotient would not fit
            return whole.dividingFullWidth(product).quotient
        }
    }
}
