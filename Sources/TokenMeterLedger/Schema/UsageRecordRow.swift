import Foundation
import GRDB
import TokenMeterMoney

/// A row of `usage_records`, the append-only book of settled requests.
///
/// Written by hand rather than Codable because the usage columns are a group shared with
/// `reservations` (``UsageColumns``).
struct UsageRecordRow: FetchableRecord, PreparedInsertRow {
    static let databaseTableName = "usage_records"

    var id: Int64?
    var requestID: String
    var userID: Int64
    var apiKeyID: Int64
    var model: String
    var upstream: String
    var startedAt: Int64
    var endedAt: Int64
    var usage: MeteredUsage
    var status: UsageStatus
    /// What the bill came to above the request's hold (pico-USD); zero when it stayed within.
    var overrunPicoUSD: Int64

    enum Columns {
        static let requestID = Column("request_id")
        static let userID = Column("user_id")
        static let endedAt = Column("ended_at")
    }

    /// The record that settles `reservation` with `usage`.
    init(settling reservation: ReservationRow, usage: MeteredUsage, status: UsageStatus, endedAt: Int64) {
        self.requestID = reservation.requestID
        self.userID = reservation.userID
        self.apiKeyID = reservation.apiKeyID
        self.model = reservation.model
        self.upstream = reservation.upstream
        self.startedAt = reservation.startedAt
        self.endedAt = max(endedAt, reservation.startedAt)
        self.usage = usage
        self.status = status
        overrunPicoUSD = max(0, usage.cost.picoUSD - reservation.heldPicoUSD)
    }

    init(row: Row) throws {
        id = row["id"]
        requestID = row["request_id"]
        userID = row["user_id"]
        apiKeyID = row["api_key_id"]
        model = row["model"]
        upstream = row["upstream"]
        startedAt = row["started_at"]
        endedAt = row["ended_at"]
        usage = try UsageColumns.decode(row)
        let s: String = row["status"]
        guard let status = UsageStatus(rawValue: s) else { throw LedgerError.storage("usage_records.status holds '\(s)'") }
        self.status = status
        overrunPicoUSD = row["overrun_pusd"]
    }

    static let columnNames = ["request_id", "user_id", "api_key_id", "model", "upstream", "started_at", "ended_at",
                              "status", "overrun_pusd"] + UsageColumns.names

    var columnValues: [(any DatabaseValueConvertible)?] {
        [requestID, userID, apiKeyID, model, upstream, startedAt, endedAt, status.rawValue, overrunPicoUSD]
            + UsageColumns.values(usage)
    }

    static let insertSQL = makeInsertSQL()

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var record: UsageRecord {
        UsageRecord(id: id ?? 0, requestID: requestID, userID: userID, apiKeyID: apiKeyID, model: model,
                    upstream: upstream, startedAt: Date(ledgerMilliseconds: startedAt),
                    endedAt: Date(ledgerMilliseconds: endedAt), usage: usage, status: status,
                    overrun: Money(picoUSD: overrunPicoUSD))
    }
}
