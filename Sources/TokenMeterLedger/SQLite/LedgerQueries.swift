import GRDB
import TokenMeterMoney

/// Reads shared by the accounting and administration paths; each runs inside the caller's transaction.
enum LedgerQueries {
    /// The user's budget status for `period`: settled totals from `monthly_usage`, holds from `reservations`
    /// (each live reservation counts as the larger of its hold and its last checkpoint).
    static func budgetStatus(_ db: Database, userID: Int64, budget: Budget, period: BillingPeriod) throws -> BudgetStatus {
        let settled = try Row.fetchOne(db, sql: """
            SELECT request_count, billed_tokens, cost_pusd FROM monthly_usage WHERE user_id = ? AND period = ?
            """, arguments: [userID, period.description])
        let held = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS n,
                   COALESCE(SUM(MAX(held_pusd, cost_pusd)), 0) AS pusd,
                   COALESCE(SUM(MAX(held_tokens, billed_tokens)), 0) AS tokens
            FROM reservations WHERE user_id = ?
            """, arguments: [userID])!
        return BudgetStatus(
            userID: userID, budget: budget, period: period,
            settledCost: Money(picoUSD: settled?["cost_pusd"] ?? 0),
            settledTokens: settled?["billed_tokens"] ?? 0,
            settledRequests: settled?["request_count"] ?? 0,
            heldCost: Money(picoUSD: held["pusd"]), heldTokens: held["tokens"], liveReservations: held["n"])
    }

    /// The user row with `id`, or `.userIDNotFound`.
    static func user(_ db: Database, id: Int64) throws -> UserRow {
        guard let row = try UserRow.fetchOne(db, key: id) else { throw LedgerError.userIDNotFound(id) }
        return row
    }

    /// The user row called `name` (case-insensitive: the column is `COLLATE NOCASE`), or `.userNotFound`.
    static func user(_ db: Database, named name: String) throws -> UserRow {
        guard let row = try UserRow.filter(UserRow.Columns.name == name).fetchOne(db) else {
            throw LedgerError.userNotFound(name)
        }
        return row
    }
}
