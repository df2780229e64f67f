import Foundation
import GRDB

/// A row of `usage_records`, the append-only book of settled requests.
///
/// Written by hand rather than Codable because the usage columns are a group shared with
/// `reservations` (``UsageColumns``).
struct UsageRecordRow: FetchableRecord, MutablePersistableRecord {
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
    }

    /// The columns a new row is written with (all but `id`), in the order of ``columnValues``.
    static let columnNames = ["request_id", "user_id", "api_key_id", "model", "upstream", "started_at", "ended_at",
                              "status"] + UsageColumns.names

    var columnValues: [(any DatabaseValueConvertible)?] {
        [requestID, userID, apiKeyID, model, upstream, startedAt, endedAt, status.rawValue] + UsageColumns.values(usage)
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        for (name, value) in zip(Self.columnNames, columnValues) { container[name] = value }
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    private static let insertSQL: String = {
        let columns = columnNames.joined(separator: ", "), placeholders = LedgerQueries.placeholders(columnNames)
        return "INSERT INTO usage_records (\(columns)) VALUES (\(placeholders))"
    }()

    /// Inserts the record through a prepared statement the connection keeps (every settle runs it) and sets ``id``.
    mutating func insertPrepared(_ db: Database) throws {
        _ = try LedgerQueries.cachedExecute(db, Self.insertSQL, StatementArguments(columnValues))
        id = db.lastInsertedRowID
    }

    var record: UsageRecord {
        UsageRecord(id: id ?? 0, requestID: requestID, userID: userID, apiKeyID: apiKeyID, model: model,
                    upstream: upstream, startedAt: Date(ledgerMilliseconds: startedAt),
                    endedAt: Date(ledgerMilliseconds: endedAt), usage: usage, status: status)
    }
}
