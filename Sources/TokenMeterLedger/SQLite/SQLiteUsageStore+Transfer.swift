import Foundation
import GRDB
import TokenMeterMoney

extension SQLiteUsageStore: LedgerTransfer {
    public func exportPeople() async throws -> LedgerPeople {
        try await read { db in
            let people = try Row.fetchAll(db, sql: """
                SELECT u.id, u.name, u.status, u.created_at, b.monthly_limit_pusd, b.monthly_token_limit, b.max_request_pusd
                FROM users u LEFT JOIN budgets b ON b.user_id = u.id ORDER BY u.id
                """).map { row in
                LedgerPeople.Person(
                    user: try UserRow(id: row["id"], name: row["name"], status: row["status"], createdAt: row["created_at"]).user(),
                    budget: Budget(monthlyLimit: (row["monthly_limit_pusd"] as Int64?).map(Money.init(picoUSD:)),
                                   monthlyTokenLimit: row["monthly_token_limit"],
                                   maxRequestCost: (row["max_request_pusd"] as Int64?).map(Money.init(picoUSD:))))
            }
            let names = Dictionary(uniqueKeysWithValues: people.map { ($0.user.id, $0.user.name) })
            let keys = try APIKeyRow.order(APIKeyRow.Columns.id).fetchAll(db).map { row in
                LedgerPeople.Key(info: row.info(userName: names[row.userID] ?? "?"), keySHA256: row.keySHA256)
            }
            return LedgerPeople(people: people, keys: keys)
        }
    }

    public func exportRecords(afterID: Int64, limit: Int) async throws -> [UsageRecord] {
        try await read { db in
            try UsageRecordRow.fetchAll(db, sql: "SELECT * FROM usage_records WHERE id > ? ORDER BY id LIMIT ?",
                                        arguments: [afterID, limit]).map(\.record)
        }
    }

    public func openReservationCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations") ?? 0 }
    }

    public func importPeople(_ people: LedgerPeople) async throws {
        try await administrativeWrite { db in
            let existing = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
            guard existing == 0 else {
                throw LedgerError.storage("the destination ledger already has \(existing) users; copy into an empty ledger")
            }
            for person in people.people {
                try db.execute(sql: "INSERT INTO users (id, name, status, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [person.user.id, person.user.name, person.user.status.rawValue,
                                           person.user.createdAt.ledgerMilliseconds])
                if person.budget != .unlimited { try BudgetRow(userID: person.user.id, budget: person.budget).insert(db) }
            }
            for key in people.keys {
                var row = APIKeyRow(id: key.info.id, userID: key.info.userID, prefix: key.info.prefix, keySHA256: key.keySHA256,
                                    createdAt: key.info.createdAt.ledgerMilliseconds,
                                    revokedAt: key.info.revokedAt?.ledgerMilliseconds,
                                    lastUsedAt: key.info.lastUsedAt?.ledgerMilliseconds)
                try row.insert(db)
            }
        }
    }

    public func importRecords(_ records: [UsageRecord]) async throws {
        try await write { db in
            let names = ["id"] + UsageRecordRow.columnNames
            let columns = names.joined(separator: ", "), placeholders = LedgerQueries.placeholders(names)
            let sql = "INSERT INTO usage_records (\(columns)) VALUES (\(placeholders))"
            let statement = try db.cachedStatement(sql: sql)
            for record in records {
                let row = UsageRecordRow(record)
                try statement.execute(arguments: StatementArguments([record.id] + row.columnValues))
            }
        }
    }

    /// SQLite gives the next rowid after the largest: nothing to do.
    public func finishImport() async throws {}

    public func ledgerSums() async throws -> LedgerSums {
        try await read { db in
            var sums = LedgerSums()
            sums.users = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
            sums.keys = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys") ?? 0
            sums.revokedKeys = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL") ?? 0
            for row in try Row.fetchAll(db, sql: """
                SELECT user_id, COUNT(*), SUM(billed_tokens), SUM(cost_pusd), SUM(estimated_pusd), SUM(overrun_pusd)
                FROM usage_records GROUP BY user_id
                """) {
                sums.records[row[0]] = .init(requests: row[1], billedTokens: row[2], costPicoUSD: row[3],
                                             estimatedPicoUSD: row[4], overrunPicoUSD: row[5])
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT user_id, SUM(request_count), SUM(billed_tokens), SUM(cost_pusd), SUM(estimated_pusd)
                FROM monthly_usage GROUP BY user_id
                """) {
                sums.rollup[row[0]] = .init(requests: row[1], billedTokens: row[2], costPicoUSD: row[3], estimatedPicoUSD: row[4])
            }
            return sums
        }
    }
}

extension UsageRecordRow {
    /// The row of an existing record (for a ledger copy).
    init(_ record: UsageRecord) {
        id = record.id
        requestID = record.requestID
        userID = record.userID
        apiKeyID = record.apiKeyID
        model = record.model
        upstream = record.upstream
        startedAt = record.startedAt.ledgerMilliseconds
        endedAt = record.endedAt.ledgerMilliseconds
        usage = record.usage
        status = record.status
        overrunPicoUSD = record.overrun.picoUSD
    }
}
