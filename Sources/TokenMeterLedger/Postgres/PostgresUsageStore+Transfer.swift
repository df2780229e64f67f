import Foundation
import PostgresNIO
import TokenMeterMoney

extension PostgresUsageStore: LedgerTransfer {
    public func exportPeople() async throws -> LedgerPeople {
        try await write(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { c in
            var people: [LedgerPeople.Person] = []
            let rows = try await c.query("""
                SELECT u.id, u.name, u.status, u.created_at, b.monthly_limit_pusd, b.monthly_token_limit, b.max_request_pusd
                FROM users u LEFT JOIN budgets b ON b.user_id = u.id ORDER BY u.id
                """, logger: self.logger)
            for try await (id, name, status, created, limit, tokens, cap) in rows.decode(
                (Int64, String, String, Int64, Int64?, Int64?, Int64?).self) {
                people.append(.init(user: try Self.user(id: id, name: name, status: status, createdAt: created),
                                    budget: Self.budget(limit, tokens, cap)))
            }
            var keys: [LedgerPeople.Key] = []
            let keyRows = try await c.query("""
                SELECT k.id, k.user_id, u.name, k.prefix, k.created_at, k.revoked_at, k.last_used_at, k.key_sha256
                FROM api_keys k JOIN users u ON u.id = k.user_id ORDER BY k.id
                """, logger: self.logger)
            for try await row in keyRows {
                keys.append(.init(info: try Self.keyInfo(row), keySHA256: try row.makeRandomAccess()[7].decode(Data.self)))
            }
            return LedgerPeople(people: people, keys: keys)
        }
    }

    public func exportRecords(afterID: Int64, limit: Int) async throws -> [UsageRecord] {
        try await read { c in
            let rows = try await c.query(PostgresQuery(unsafeSQL: """
                SELECT \(PostgresMigrations.recordColumnsOfU) FROM usage_records u WHERE u.id > $1 ORDER BY u.id LIMIT $2
                """, binds: Self.bindings(afterID, Int64(limit))), logger: self.logger)
            var records: [UsageRecord] = []
            for try await row in rows { records.append(try Self.decodeRecord(row.makeRandomAccess(), from: 0)) }
            return records
        }
    }

    public func openReservationCount() async throws -> Int {
        try await read { c in
            for try await n in try await c.query("SELECT COUNT(*) FROM reservations", logger: self.logger).decode(Int64.self) {
                return Int(n)
            }
            return 0
        }
    }

    public func importPeople(_ people: LedgerPeople) async throws {
        try await administrativeWrite { c in
            for try await n in try await c.query("SELECT COUNT(*) FROM users", logger: self.logger).decode(Int64.self) where n > 0 {
                throw LedgerError.storage("the destination ledger already has \(n) users; copy into an empty ledger")
            }
            for person in people.people {
                let u = person.user
                try await c.query("""
                    INSERT INTO users (id, name, status, created_at)
                    VALUES (\(u.id), \(u.name), \(u.status.rawValue), \(u.createdAt.ledgerMilliseconds))
                    """, logger: self.logger)
                try await c.query("INSERT INTO user_holds VALUES (\(u.id), 0, 0, 0)", logger: self.logger)
                if person.budget != .unlimited { try await Self.saveBudget(c, userID: u.id, person.budget, logger: self.logger) }
            }
            for key in people.keys {
                let k = key.info
                try await c.query("""
                    INSERT INTO api_keys (id, user_id, prefix, key_sha256, created_at, revoked_at, last_used_at)
                    VALUES (\(k.id), \(k.userID), \(k.prefix), \(key.keySHA256), \(k.createdAt.ledgerMilliseconds),
                            \(k.revokedAt?.ledgerMilliseconds), \(k.lastUsedAt?.ledgerMilliseconds))
                    """, logger: self.logger)
            }
        }
    }

    public func importRecords(_ records: [UsageRecord]) async throws {
        let names = PostgresMigrations.recordColumns.map(\.name)
        let columns = names.joined(separator: ", "), placeholders = (1...names.count).map { "$\($0)" }.joined(separator: ", ")
        let sql = "INSERT INTO usage_records (\(columns)) VALUES (\(placeholders))"
        try await write { c in
            for record in records {
                var b = PostgresBindings()
                b.append(record.id)
                b.append(record.requestID)
                b.append(record.userID)
                b.append(record.apiKeyID)
                b.append(record.model)
                b.append(record.upstream)
                b.append(record.startedAt.ledgerMilliseconds)
                b.append(record.endedAt.ledgerMilliseconds)
                b.append(record.status.rawValue)
                b.append(record.overrun.picoUSD)
                b.append(usage: record.usage)
                try await c.query(PostgresQuery(unsafeSQL: sql, binds: b), logger: self.logger)
            }
        }
    }

    public func finishImport() async throws {
        try await write { c in
            try await c.query("""
                SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE((SELECT MAX(id) FROM users), 0) + 1, false),
                       setval(pg_get_serial_sequence('api_keys', 'id'), COALESCE((SELECT MAX(id) FROM api_keys), 0) + 1, false),
                       setval(pg_get_serial_sequence('usage_records', 'id'),
                              COALESCE((SELECT MAX(id) FROM usage_records), 0) + 1, false)
                """, logger: self.logger)
        }
    }

    public func ledgerSums() async throws -> LedgerSums {
        try await write(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { c in
            var sums = LedgerSums()
            let counts = try await c.query("""
                SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM api_keys),
                       (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL)
                """, logger: self.logger)
            for try await (users, keys, revoked) in counts.decode((Int64, Int64, Int64).self) {
                (sums.users, sums.keys, sums.revokedKeys) = (Int(users), Int(keys), Int(revoked))
            }
            let records = try await c.query("""
                SELECT user_id, COUNT(*)::bigint, SUM(billed_tokens)::bigint, SUM(cost_pusd)::bigint,
                       SUM(estimated_pusd)::bigint, SUM(overrun_pusd)::bigint
                FROM usage_records GROUP BY user_id
                """, logger: self.logger)
            for try await (user, n, tokens, cost, estimated, overrun) in records.decode(
                (Int64, Int64, Int64, Int64, Int64, Int64).self) {
                sums.records[user] = .init(requests: n, billedTokens: tokens, costPicoUSD: cost, estimatedPicoUSD: estimated,
                                           overrunPicoUSD: overrun)
            }
            let rollup = try await c.query("""
                SELECT user_id, SUM(request_count)::bigint, SUM(billed_tokens)::bigint, SUM(cost_pusd)::bigint,
                       SUM(estimated_pusd)::bigint
                FROM monthly_usage GROUP BY user_id
                """, logger: self.logger)
            for try await (user, n, tokens, cost, estimated) in rollup.decode((Int64, Int64, Int64, Int64, Int64).self) {
                sums.rollup[user] = .init(requests: n, billedTokens: tokens, costPicoUSD: cost, estimatedPicoUSD: estimated)
            }
            return sums
        }
    }

    static func bindings(_ values: Int64...) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values { b.append(v) }
        return b
    }
}
