import GRDB
import TokenMeterMoney

/// Reads shared by the accounting and administration paths; each runs inside the caller's transaction.
enum LedgerQueries {
    /// The user's budget status for `period`: settled totals from `monthly_usage`, holds from `reservations`
    /// (each live reservation counts as the larger of its hold and its last checkpoint).
    static func budgetStatus(_ db: Database, userID: Int64, budget: Budget, period: BillingPeriod) throws -> BudgetStatus {
        let settled = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT request_count, billed_tokens, cost_pusd, estimated_pusd FROM monthly_usage
            WHERE user_id = ? AND period = ?
            """), arguments: [userID, period.description])
        // The live reservations' totals, kept by triggers (migration v4-user-holds); no row: none ever held.
        let held = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT live, held_pusd, held_tokens FROM user_holds WHERE user_id = ?
            """), arguments: [userID])
        return BudgetStatus(
            userID: userID, budget: budget, period: period,
            settledCost: Money(picoUSD: settled?["cost_pusd"] ?? 0),
            settledTokens: settled?["billed_tokens"] ?? 0,
            settledRequests: settled?["request_count"] ?? 0,
            heldCost: Money(picoUSD: held?["held_pusd"] ?? 0), heldTokens: held?["held_tokens"] ?? 0,
            liveReservations: held?["live"] ?? 0,
            settledEstimatedCost: Money(picoUSD: settled?["estimated_pusd"] ?? 0))
    }

    /// The user row with `id`, or `.userIDNotFound`.
    static func user(_ db: Database, id: Int64) throws -> UserRow {
        guard let row = try cachedOne(UserRow.self, db, "SELECT * FROM users WHERE id = ?", [id]) else {
            throw LedgerError.userIDNotFound(id)
        }
        return row
    }

    /// The user row called `name` (case-insensitive: the column is `COLLATE NOCASE`), or `.userNotFound`.
    static func user(_ db: Database, named name: String) throws -> UserRow {
        guard let row = try UserRow.filter(UserRow.Columns.name == name).fetchOne(db) else {
            throw LedgerError.userNotFound(name)
        }
        return row
    }

    /// The first record `sql` finds, through a prepared statement the connection keeps. The accounting paths
    /// (reserve, checkpoint, settle) run the same few statements for every request; compiling them each time,
    /// as GRDB's query interface does, was most of the CPU those transactions took (profile in
    /// docs/history/benchmarks-server-2026-11.md, run of 2026-11-29 11:20 UTC).
    static func cachedOne<Record: FetchableRecord>(_ type: Record.Type, _ db: Database, _ sql: String,
                                                   _ arguments: StatementArguments) throws -> Record? {
        try Record.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// Whether `sql` (a `SELECT EXISTS(...)`) is true, through a kept prepared statement.
    static func cachedExists(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) ?? false
    }

    /// Runs an update through a kept prepared statement; returns the number of rows it changed.
    static func cachedExecute(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
        return db.changesCount
    }

    /// `?, ?, …`: one bound-parameter marker per column, for an INSERT's VALUES.
    static func placeholders(_ columns: [String]) -> String {
        Array(repeating: "?", count: columns.count).joined(separator: ", ")
    }
}
