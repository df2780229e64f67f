import Foundation
import GRDB

extension SQLiteUsageStore: BudgetAlertLog {
    public func recordBudgetAlert(_ event: BudgetAlertEvent, claim: Duration) async throws -> BudgetAlert? {
        let now = configuration.now().ledgerMilliseconds
        return try await write { db in
            try db.execute(sql: """
                INSERT INTO budget_alerts (user_id, period, limit_kind, threshold_percent, limit_value, spent, committed,
                                           reason, fired_at, claimed_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (user_id, period, limit_kind, threshold_percent) DO NOTHING
                """, arguments: [event.userID, event.period.description, event.limit.rawValue, event.thresholdPercent,
                                 event.limitValue, event.spent, event.committed, event.reason.rawValue, now,
                                 now + claim.ledgerMilliseconds])
            guard db.changesCount == 1 else { return nil }
            return try Self.alerts(db, sql: "WHERE a.id = ?", [db.lastInsertedRowID], limit: 1).first
        }
    }

    public func claimUndeliveredAlerts(attempts: Int, within: Duration, claim: Duration, limit: Int) async throws -> [BudgetAlert] {
        let now = configuration.now().ledgerMilliseconds
        return try await write { db in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM budget_alerts
                WHERE delivered_at IS NULL AND attempts < ? AND fired_at >= ? AND (claimed_until IS NULL OR claimed_until <= ?)
                ORDER BY id LIMIT ?
                """, arguments: [attempts, now - within.ledgerMilliseconds, now, limit])
            var claimed: [BudgetAlert] = []
            for id in ids {
                try db.execute(sql: "UPDATE budget_alerts SET claimed_until = ? WHERE id = ?",
                               arguments: [now + claim.ledgerMilliseconds, id])
                claimed += try Self.alerts(db, sql: "WHERE a.id = ?", [id], limit: 1)
            }
            return claimed
        }
    }

    public func recordAlertDelivery(alertID: Int64, attempts: Int, deliveredAt: Date?, error: String?) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE budget_alerts SET attempts = ?, delivered_at = ?, last_error = ? WHERE id = ?",
                           arguments: [attempts, deliveredAt?.ledgerMilliseconds, error, alertID])
        }
    }

    public func budgetAlerts(userID: Int64?, limit: Int) async throws -> [BudgetAlert] {
        try await read { db in
            if let userID { return try Self.alerts(db, sql: "WHERE a.user_id = ?", [userID], limit: limit) }
            return try Self.alerts(db, sql: "", [], limit: limit)
        }
    }

    public func recentRecords(userID: Int64, limit: Int) async throws -> [UsageRecord] {
        try await read { db in
            try UsageRecordRow.fetchAll(db, sql: "SELECT * FROM usage_records WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                                        arguments: [userID, limit]).map(\.record)
        }
    }

    /// The alerts `filter` selects (`WHERE …` on `a`, a constant of this file), newest first.
    private static func alerts(_ db: Database, sql filter: StaticString, _ arguments: [Int64], limit: Int) throws -> [BudgetAlert] {
        let select = "SELECT a.*, u.name AS user_name FROM budget_alerts a JOIN users u ON u.id = a.user_id "
        return try Row.fetchAll(db, sql: select + filter.description + " ORDER BY a.id DESC LIMIT ?",
                                arguments: StatementArguments(arguments + [Int64(limit)])).map { row in
            guard let period = BillingPeriod(parsing: row["period"]),
                  let kind = BudgetLimitKind(rawValue: row["limit_kind"]),
                  let reason = BudgetAlertReason(rawValue: row["reason"]) else {
                throw LedgerError.storage("budget_alerts row \(row["id"] as Int64) does not decode")
            }
            return BudgetAlert(
                id: row["id"], userName: row["user_name"],
                event: BudgetAlertEvent(userID: row["user_id"], period: period, limit: kind,
                                        thresholdPercent: row["threshold_percent"], limitValue: row["limit_value"],
                                        spent: row["spent"], committed: row["committed"], reason: reason),
                firedAt: Date(ledgerMilliseconds: row["fired_at"]),
                deliveredAt: (row["delivered_at"] as Int64?).map(Date.init(ledgerMilliseconds:)),
                attempts: row["attempts"], lastError: row["last_error"])
        }
    }
}
