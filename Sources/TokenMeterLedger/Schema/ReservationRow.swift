import Foundation
import GRDB
import TokenMeterMoney

/// A row of `reservations`: an open request, what it holds, and its last checkpointed usage.
///
/// Written by hand rather than Codable because the usage columns are a group shared with
/// `usage_records` (``UsageColumns``).
struct ReservationRow: FetchableRecord, PreparedInsertRow {
    static let databaseTableName = "reservations"

    var id: Int64?
    var requestID: String
    var userID: Int64
    var apiKeyID: Int64
    var model: String
    var upstream: String
    var startedAt: Int64
    var heldPicoUSD: Int64
    var heldTokens: Int64
    var checkpointAt: Int64?
    var checkpoint: MeteredUsage

    enum Columns {
        static let id = Column("id")
        static let requestID = Column("request_id")
        static let userID = Column("user_id")
    }

    init(request: ReservationRequest, startedAt: Int64) {
        self.requestID = request.requestID
        self.userID = request.userID
        self.apiKeyID = request.apiKeyID
        self.model = request.model
        self.upstream = request.upstream
        self.startedAt = startedAt
        self.heldPicoUSD = request.estimate.cost.picoUSD
        self.heldTokens = request.estimate.tokens
        self.checkpointAt = nil
        self.checkpoint = .zero
    }

    init(row: Row) throws {
        id = row["id"]
        requestID = row["request_id"]
        userID = row["user_id"]
        apiKeyID = row["api_key_id"]
        model = row["model"]
        upstream = row["upstream"]
        startedAt = row["started_at"]
        heldPicoUSD = row["held_pusd"]
        heldTokens = row["held_tokens"]
        checkpointAt = row["checkpoint_at"]
        checkpoint = try UsageColumns.decode(row)
    }

    static let columnNames = ["request_id", "user_id", "api_key_id", "model", "upstream", "started_at", "held_pusd",
                              "held_tokens", "checkpoint_at"] + UsageColumns.names

    var columnValues: [(any DatabaseValueConvertible)?] {
        [requestID, userID, apiKeyID, model, upstream, startedAt, heldPicoUSD, heldTokens, checkpointAt]
            + UsageColumns.values(checkpoint)
    }

    static let insertSQL = makeInsertSQL()

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var reservation: Reservation {
        Reservation(id: id ?? 0, requestID: requestID, userID: userID, apiKeyID: apiKeyID, model: model,
                    upstream: upstream, startedAt: Date(ledgerMilliseconds: startedAt),
                    held: UsageEstimate(cost: Money(picoUSD: heldPicoUSD), tokens: heldTokens))
    }
}
