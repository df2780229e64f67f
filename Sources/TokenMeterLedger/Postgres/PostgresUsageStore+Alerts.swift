import Foundation
import PostgresNIO

extension PostgresUsageStore: BudgetAlertLog {
    public func recordBudgetAlert(_ event: BudgetAlertEvent, claim: Duration) async throws -> BudgetAlert? {
        let now = configuration.now().ledgerMilliseconds
        let claimedUntil = now + claim.ledgerMilliseconds
        return try await write { c in
            let rows = try await c.query("""
                INSERT INTO budget_alerts (user_id, period, limit_kind, threshold_percent, limit_value, spent, committed,
                                           reason, fired_at, claimed_until)
                VALUES (\(event.userID), \(event.period.description), \(event.limit.rawValue), \(event.thresholdPercent),
                        \(event.limitValue), \(event.spent), \(event.committed), \(event.reason.rawValue), \(now),
                        \(claimedUntil))
                ON CONFLICT (user_id, period, limit_kind, threshold_percent) DO NOTHING RETURNING id
                """, logger: self.logger)
            guard let id = try await rows.decode(Int64.self).first(where: { _ in true }) else { return nil }
            return try await self.alerts(c, sql: "WHERE a.id = $1", id, limit: 1).first
        }
    }

    public func claimUndeliveredAlerts(attempts: Int, within: Duration, claim: Duration, limit: Int) async throws -> [BudgetAlert] {
        let now = configuration.now().ledgerMilliseconds
        let since = now - within.ledgerMilliseconds, until = now + claim.ledgerMilliseconds
        return try await write { c in
            // SKIP LOCKED: instances sweeping at the same moment each take other rows instead of waiting.
            let rows = try await c.query("""
                UPDATE budget_alerts SET claimed_until = \(until)
                WHERE id IN (SELECT id FROM budget_alerts
                             WHERE delivered_at IS NULL AND attempts < \(Int64(attempts)) AND fired_at >= \(since)
                               AND (claimed_until IS NULL OR claimed_until <= \(now))
                             ORDER BY id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                RETURNING id
                """, logger: self.logger)
            var ids: [Int64] = []
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            var claimed: [BudgetAlert] = []
            for id in ids.sorted() { claimed += try await self.alerts(c, sql: "WHERE a.id = $1", id, limit: 1) }
            return claimed
        }
    }

    public func recordAlertDelivery(alertID: Int64, attempts: Int, deliveredAt: Date?, error: String?) async throws {
        _ = try await write { c in
            try await c.query("""
                UPDATE budget_alerts SET attempts = \(attempts), delivered_at = \(deliveredAt?.ledgerMilliseconds),
                    last_error = \(error) WHERE id = \(alertID)
                """, logger: self.logger)
        }
    }

    public func budgetAlerts(userID: Int64?, limit: Int) async throws -> [BudgetAlert] {
        try await read { c in
            if let userID { return try await self.alerts(c, sql: "WHERE a.user_id = $1", userID, limit: limit) }
            return try await self.alerts(c, sql: "WHERE $1 = $1", 0, limit: limit)
        }
    }

    public func recentRecords(userID: Int64, limit: Int) async throws -> [UsageRecord] {
        try await read { c in
            let rows = try await c.query(PostgresQuery(unsafeSQL: """
                SELECT \(PostgresMigrations.recordColumnsOfU) FROM usage_records u WHERE u.user_id = $1
                ORDER BY u.id DESC LIMIT $2
                """, binds: Self.bindings(userID, Int64(limit))), logger: self.logger)
            var records: [UsageRecord] = []
            for try await row in rows { records.append(try Self.decodeRecord(row.makeRandomAccess(), from: 0)) }
            return records
        }
    }

    /// The alerts `filter` selects (`WHERE …` on `a` with `$1`, a constant of this file), newest first.
    private func alerts(_ c: PostgresConnection, sql filter: StaticString, _ argument: Int64, limit: Int) async throws -> [BudgetAlert] {
        let select = """
            SELECT a.id, u.name, a.user_id, a.period, a.limit_kind, a.threshold_percent, a.limit_value, a.spent,
                   a.committed, a.reason, a.fired_at, a.delivered_at, a.attempts, a.last_error
            FROM budget_alerts a JOIN users u ON u.id = a.user_id
            """
        let rows = try await c.query(PostgresQuery(unsafeSQL: select + " " + filter.description + " ORDER BY a.id DESC LIMIT $2",
                                                   binds: Self.bindings(argument, Int64(limit))), logger: logger)
        var alerts: [BudgetAlert] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let periodText = try r[3].decode(String.self), kindText = try r[4].decode(String.self)
            let reasonText = try r[9].decode(String.self)
            guard let period = BillingPeriod(parsing: periodText), let kind = BudgetLimitKind(rawValue: kindText),
                  let reason = BudgetAlertReason(rawValue: reasonText) else {
                throw LedgerError.storage("budget_alerts row \(try r[0].decode(Int64.self)) does not decode")
            }
            alerts.append(BudgetAlert(
                id: try r[0].decode(Int64.self), userName: try r[1].decode(String.self),
                event: BudgetAlertEvent(userID: try r[2].decode(Int64.self), period: period, limit: kind,
                                        thresholdPercent: Int(try r[5].decode(Int32.self)), limitValue: try r[6].decode(Int64.self),
                                        spent: try r[7].decode(Int64.self), committed: try r[8].decode(Int64.self), reason: reason),
                firedAt: Date(ledgerMilliseconds: try r[10].decode(Int64.self)),
                deliveredAt: try r[11].decode(Int64?.self).map(Date.init(ledgerMilliseconds:)),
                attempts: Int(try r[12].decode(Int32.self)), lastError: try r[13].decode(String?.self)))
        }
        return alerts
    }
}
