extension MonthlyReport {
    /// The sums of one user's requests to one model over the month.
    public struct UserModelUsage: Sendable, Hashable {
        /// The user's ledger id.
        public var userID: Int64
        /// The user's name.
        public var userName: String
        /// Model name as requested.
        public var model: String
        /// The sums.
        public var totals: UsageTotals

        /// A user-model pair's month.
        public init(userID: Int64, userName: String, model: String, totals: UsageTotals) {
            self.userID = userID
            self.userName = userName
            self.model = model
            self.totals = totals
        }
    }
}
