import Foundation
import PostgresNIO
import TokenMeterMoney

extension PostgresUsageStore: UsageReporting {
    public func monthlyReport(for period: BillingPeriod, userName: String?) async throws -> MonthlyReport {
        let now = configuration.now()
        // One snapshot for the user list and the rollup rows.
        return try await write(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { c in
            let users = try await Self.reportUsers(c, period: period, userName: userName, logger: self.logger)
            let first = period.start.ledgerMilliseconds / MonthlyReportBuilder.millisecondsPerDay
            let end = period.end.ledgerMilliseconds / MonthlyReportBuilder.millisecondsPerDay
            let onlyUser: Int64? = userName == nil ? nil : users.first?.user.id
            let rows = try await c.query("""
                SELECT \(unescaped: MonthlyReportBuilder.columns) FROM daily_usage
                WHERE day >= \(first) AND day < \(end) AND (\(onlyUser)::bigint IS NULL OR user_id = \(onlyUser))
                """, logger: self.logger)
            var builder = MonthlyReportBuilder()
            for try await row in rows {
                let r = row.makeRandomAccess()
                builder.add(day: try r[0].decode(Int64.self), userID: try r[1].decode(Int64.self),
                            model: try r[2].decode(String.self),
                            totals: try MonthlyReportBuilder.totals { try r[$0].decode(Int64?.self) })
            }
            return builder.build(period: period, now: now, userFilter: userName, users: users)
        }
    }

    /// The users a report lists, by name, with their budgets (see the SQLite ledger's `reportUsers`).
    private static func reportUsers(_ c: PostgresConnection, period: BillingPeriod, userName: String?,
                                    logger: Logger) async throws -> [(user: User, budget: Budget)] {
        let rows = try await c.query("""
            SELECT u.id, u.name, u.status, u.created_at, b.monthly_limit_pusd, b.monthly_token_limit, b.max_request_pusd
            FROM users u LEFT JOIN budgets b ON b.user_id = u.id
            WHERE CASE WHEN \(userName)::text IS NOT NULL THEN lower(u.name) = lower(\(userName))
                       ELSE u.created_at < \(period.end.ledgerMilliseconds)
                            OR u.id IN (SELECT user_id FROM monthly_usage WHERE period = \(period.description)) END
            ORDER BY lower(u.name)
            """, logger: logger)
        var users: [(user: User, budget: Budget)] = []
        for try await (id, name, status, created, limit, tokens, cap) in rows.decode(
            (Int64, String, String, Int64, Int64?, Int64?, Int64?).self) {
            users.append((try user(id: id, name: name, status: status, createdAt: created), budget(limit, tokens, cap)))
        }
        if let userName, users.isEmpty { throw LedgerError.userNotFound(userName) }
        return users
    }
}
