extension MonthlyReport {
    /// One model's sums over the month, across the users reported.
    public struct ModelUsage: Sendable, Hashable {
        /// Model name as requested by clients.
        public var model: String
        /// The sums.
        public var totals: UsageTotals

        /// A model's month.
        public init(model: String, totals: UsageTotals) {
            self.model = model
            self.totals = totals
        }
    }
}
