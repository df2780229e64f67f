import Foundation

extension MonthlyReport {
    /// How much of the month a report can cover, judged at the time it was made.
    public enum Coverage: Sendable, Hashable {
        /// The month is over: the figures are final.
        case complete
        /// The month is in progress: the figures run to `through` (the report's time) and will grow.
        case partial(through: Date)
        /// The month has not begun: the report is empty.
        case notStarted

        /// The coverage of `period` judged at `now`.
        public init(period: BillingPeriod, now: Date) {
            if now >= period.end {
                self = .complete
            } else if now >= period.start {
                self = .partial(through: now)
            } else {
                self = .notStarted
            }
        }

        /// `complete`, `partial` or `not_started`: the JSON and CSV spelling.
        public var name: String {
            switch self {
            case .complete: "complete"
            case .partial: "partial"
            case .notStarted: "not_started"
            }
        }
    }
}
