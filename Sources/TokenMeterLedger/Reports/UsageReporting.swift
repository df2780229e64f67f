/// Monthly usage reports: what `tokenmeter report` and the server's `GET /admin/reports/monthly` read.
/// Implemented by ``SQLiteUsageStore``; a second backend implements it too.
///
/// Errors are ``LedgerError``.
public protocol UsageReporting: Sendable {
    /// The report of `period` (UTC calendar month) for every user, or only for the user called `userName`
    /// (case-insensitive; throws `.userNotFound`). Aggregated by the database; the result's size does
    /// not depend on the number of records. The month in progress is `.partial` up to the store's clock.
    func monthlyReport(for period: BillingPeriod, userName: String?) async throws -> MonthlyReport
}
