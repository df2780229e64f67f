import Foundation
import TokenMeterMoney

extension MonthlyReport {
    /// One UTC day of the month: its sums, and each user's share of them.
    public struct DailyUsage: Sendable, Hashable {
        /// 00:00:00 UTC of the day.
        public var date: Date
        /// Day of the month, 1...31.
        public var dayOfMonth: Int
        /// Sums over the day's records (those whose request ended that day, UTC).
        public var totals: UsageTotals
        /// Users with usage that day, by user id.
        public var users: [UserShare]

        /// A day's usage.
        public init(date: Date, dayOfMonth: Int, totals: UsageTotals, users: [UserShare]) {
            self.date = date
            self.dayOfMonth = dayOfMonth
            self.totals = totals
            self.users = users
        }

        /// One user's usage on one day.
        public struct UserShare: Sendable, Hashable {
            /// The user's ledger id.
            public var userID: Int64
            /// Requests settled that day.
            public var requests: Int64
            /// Tokens billed that day.
            public var billedTokens: Int64
            /// Cost billed that day (exact, pico-USD).
            public var cost: Money

            /// A user's day.
            public init(userID: Int64, requests: Int64, billedTokens: Int64, cost: Money) {
                self.userID = userID
                self.requests = requests
                self.billedTokens = billedTokens
                self.cost = cost
            }
        }
    }
}
