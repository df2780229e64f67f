import Foundation
import GRDB
import TokenMeterMoney

extension SQLiteUsageStore: UsageReporting {
    public func monthlyReport(for period: BillingPeriod, userName: String?) async throws -> MonthlyReport {
        let now = configuration.now()
        return try await read { db in
            let users = try Self.reportUsers(db, period: period, userName: userName)
            var arguments: [String: (any DatabaseValueConvertible)?] = [
                "first": period.start.ledgerMilliseconds / MonthlyReportBuilder.millisecondsPerDay,
                "end": period.end.ledgerMilliseconds / MonthlyReportBuilder.millisecondsPerDay,
            ]
            if userName != nil { arguments["user"] = users.first?.user.id }
            var builder = MonthlyReportBuilder()
            // A cursor: the rollup rows stream through the builder one at a time.
            let rows = try Row.fetchCursor(db, sql: MonthlyReportBuilder.sql(forOneUser: userName != nil),
                                           arguments: StatementArguments(arguments))
            while let row = try rows.next() { builder.add(row) }
            return builder.build(period: period, now: now, userFilter: userName, users: users)
        }
    }

    /// The users a report of `period` lists, by name, with their budgets: the user called `userName`, or
    /// everyone created before the end of the month or with usage in it.
    private static func reportUsers(_ db: Database, period: BillingPeriod,
                                    userName: String?) throws -> [(user: User, budget: Budget)] {
        let select = """
            SELECT u.id, u.name, u.status, u.created_at,
                   b.monthly_limit_pusd, b.monthly_token_limit, b.max_request_pusd
            FROM users u LEFT JOIN budgets b ON b.user_id = u.id
            """
        let rows: [Row]
        if let userName {
            rows = try Row.fetchAll(db, sql: select + " WHERE u.name = ?", arguments: [userName])
            guard !rows.isEmpty else { throw LedgerError.userNotFound(userName) }
        } else {
            rows = try Row.fetchAll(db, sql: select + """
                 WHERE u.created_at < ? OR u.id IN (SELECT user_id FROM monthly_usage WHERE period = ?)
                ORDER BY u.name
                """, arguments: [period.end.ledgerMilliseconds, period.description])
        }
        return try rows.map { row in
            let user = try UserRow(id: row["id"], name: row["name"], status: row["status"],
                                   createdAt: row["created_at"]).user()
            let budget = Budget(monthlyLimit: (row["monthly_limit_pusd"] as Int64?).map(Money.init(picoUSD:)),
                                monthlyTokenLimit: row["monthly_token_limit"],
                                maxRequestCost: (row["max_request_pusd"] as Int64?).map(Money.init(picoUSD:)))
            return (user, budget)
        }
    }
}
