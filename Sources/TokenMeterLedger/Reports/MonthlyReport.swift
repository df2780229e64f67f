import Foundation
import TokenMeterMoney

/// One calendar month (UTC) of settled usage, aggregated per user, per model, per user-model pair and
/// per day: the value every report format (table, CSV, JSON, HTML) renders.
///
/// Built by ``UsageReporting/monthlyReport(for:userName:)`` with SQL aggregation; its size depends on the
/// number of users, models and days, never on the number of records. Only settled usage counts (usage
/// records, in the month their request ended); live reservations are not in a report. Budgets are the
/// ones in force when the report was made (the ledger keeps no budget history).
public struct MonthlyReport: Sendable, Hashable {
    /// The month reported (UTC).
    public var period: BillingPeriod
    /// When the report was made (UTC, millisecond resolution).
    public var generatedAt: Date
    /// Whether the month is over, in progress or still to come when the report was made.
    public var coverage: Coverage
    /// The user the report is restricted to, or nil for all users.
    public var userFilter: String?
    /// Every user who existed by the end of the month (or had usage in it), by name; with a filter, that one.
    public var users: [UserUsage]
    /// Per-model sums over all reported users, by model name.
    public var models: [ModelUsage]
    /// Sums per user and model that had usage, ordered by user name then model: the rows of the CSV.
    public var userModels: [UserModelUsage]
    /// Every day of the month up to the day the data runs to (all days of a complete month, none of a
    /// month not started), in order, with zero days included.
    public var days: [DailyUsage]
    /// Sums over everything reported.
    public var totals: UsageTotals

    /// A report value.
    public init(period: BillingPeriod, generatedAt: Date, coverage: Coverage, userFilter: String?,
                users: [UserUsage], models: [ModelUsage], userModels: [UserModelUsage], days: [DailyUsage],
                totals: UsageTotals) {
        self.period = period
        self.generatedAt = generatedAt
        self.coverage = coverage
        self.userFilter = userFilter
        self.users = users
        self.models = models
        self.userModels = userModels
        self.days = days
        self.totals = totals
    }

    /// Whether no request was settled in the month (for the users reported).
    public var isEmpty: Bool { totals.isEmpty }
}
