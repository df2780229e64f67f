import Foundation
import GRDB
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Migrations")
struct MigrationTests {
    /// Builds a ledger at schema v1 only, with users, a key, a budget, records in May and June 2025 and
    /// one open reservation, written with plain SQL as a v1 binary would have.
    func makeV1Ledger(at path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try LedgerMigrations.migrator.migrate(queue, upTo: "v1-core")
        try queue.write { db in
            #expect(try !db.tableExists("monthly_usage"))
            try db.execute(sql: """
                INSERT INTO users (id, name, status, created_at) VALUES (1, 'ann', 'active', 1746057600000),
                                                                        (2, 'bob', 'disabled', 1746057600000);
                INSERT INTO budgets (user_id, monthly_limit_pusd, monthly_token_limit, max_request_pusd)
                    VALUES (1, 5000000000000, NULL, 1000000000000);
                INSERT INTO api_keys (id, user_id, prefix, key_sha256, created_at)
                    VALUES (1, 1, 'abcdefgh', zeroblob(32), 1746057600000), (2, 2, 'bcdefghi', zeroblob(32), 1746057600000);
                """)
            // May 2025: 3 records of ann, 1 of bob. June 2025: 2 of ann (one billed by the provider).
            let rows: [(String, Int, Int64, Int64, Int64, Int64?, Int64?, String, Int64, Int64)] = [
                ("may-1", 1, 1_746_100_000_000, 1_746_100_001_000, 100, nil, nil, "local", 150, 300_000_000),
                ("may-2", 1, 1_746_200_000_000, 1_746_200_002_000, 40, nil, nil, "local", 60, 120_000_000),
                ("may-3", 1, 1_748_735_999_000, 1_748_735_999_500, 10, nil, nil, "local", 20, 40_000_000),
                ("may-b", 2, 1_746_300_000_000, 1_746_300_001_000, 5, nil, nil, "local", 8, 16_000_000),
                ("jun-1", 1, 1_748_736_000_000, 1_748_736_001_000, 70, nil, nil, "local", 100, 200_000_000),
                ("jun-2", 1, 1_749_000_000_000, 1_749_000_003_000, 30, 31, 25, "provider", 56, 112_000_000),
            ]
            for (id, user, started, ended, prompt, pp, pc, billedBy, billed, cost) in rows {
                try db.execute(sql: """
                    INSERT INTO usage_records (request_id, user_id, api_key_id, model, upstream, started_at, ended_at,
                      status, prompt_tokens, completion_tokens, provider_prompt_tokens, provider_completion_tokens,
                      billed_by, billed_tokens, cost_pusd)
                    VALUES (?, ?, ?, 'gpt-4o-mini', 'openai', ?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, user, user, started, ended, prompt,
                                     billedBy == "local" ? billed - prompt : 24, pp, pc, billedBy, billed, cost])
            }
            try db.execute(sql: """
                INSERT INTO reservations (request_id, user_id, api_key_id, model, upstream, started_at, held_pusd,
                  held_tokens, checkpoint_at, prompt_tokens, completion_tokens, billed_by, billed_tokens, cost_pusd)
                VALUES ('jun-open', 1, 1, 'gpt-4o-mini', 'openai', 1749100000000, 900000000, 450, 1749100004000,
                        50, 20, 'local', 70, 140000000)
                """)
        }
    }

    @Test("a v1 database upgrades in place: records, users, keys and budgets intact, rollup backfilled")
    func upgradeFromV1() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("old.sqlite")
        try makeV1Ledger(at: path)
        let before = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM usage_records ORDER BY id")
        }

        let clock = TestClock(midJune2025)
        let store = try SQLiteUsageStore(path: path, configuration: .testing(clock: clock))
        #expect(try await store.schemaVersion() == LedgerMigrations.names.last)
        #expect(store.recoveredReservations == 1) // the reservation a v1 process left open

        // Every v1 column as it was; the columns later migrations added hold their defaults (nothing estimated,
        // no overrun).
        let v1Columns = Array(before[0].columnNames).joined(separator: ", ")
        let after = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT \(v1Columns) FROM usage_records WHERE request_id != 'jun-open' ORDER BY id")
        }
        #expect(after == before)
        let added = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM usage_records
                WHERE request_id != 'jun-open' AND estimated_completion_tokens + estimated_pusd + overrun_pusd != 0
                """)
        }
        #expect(added == 0)

        let ann = try await store.user(named: "ann")
        #expect(ann.status == .active)
        #expect(try await store.user(named: "bob").status == .disabled)
        let status = try await store.remaining(userID: ann.id)
        #expect(status.budget == Budget(monthlyLimit: usd("5"), maxRequestCost: usd("1")))
        // June: jun-1 + jun-2 + the recovered jun-open at its checkpoint (140,000,000 pUSD, 70 tokens).
        #expect(status.settledCost == Money(picoUSD: 200_000_000 + 112_000_000 + 140_000_000))
        #expect(status.settledTokens == 100 + 56 + 70)
        #expect(status.settledRequests == 3)
        #expect(status.heldCost == .zero)
        let may = try await store.usage(userID: ann.id, period: BillingPeriod(year: 2025, month: 5)!)
        #expect(may.requests == 3)
        #expect(may.cost == Money(picoUSD: 460_000_000))
        #expect(try await store.listAPIKeys(userID: nil).map(\.prefix) == ["abcdefgh", "bcdefghi"])
        try assertBooksBalance(path: path)
    }

    @Test("the migrated rollup is used by new settles and the reservation check reads one rollup row")
    func rollupIsLive() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("old.sqlite")
        try makeV1Ledger(at: path)
        let store = try SQLiteUsageStore(path: path, configuration: .testing(clock: TestClock(midJune2025)))
        let key = try await store.createAPIKey(userID: 1)
        let r = try await store.reserve(ReservationRequest(
            requestID: "new", userID: 1, apiKeyID: key.info.id, model: "m", upstream: "u",
            estimate: UsageEstimate(cost: usd("0.5"), tokens: 100)))
        _ = try await store.settle(r, usage: localUsage(prompt: 3, completion: 4), status: .completed)
        try assertBooksBalance(path: path)
        let plan = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT cost_pusd FROM monthly_usage WHERE user_id = 1 AND period = '2025-06'")
                .map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("PRIMARY KEY") }, "plan: \(plan)")
    }

    @Test("migrations are registered in order under their frozen names")
    func names() throws {
        #expect(LedgerMigrations.migrator.migrations == LedgerMigrations.names)
        #expect(LedgerMigrations.names == ["v1-core", "v2-monthly-rollup", "v3-daily-rollup", "v4-user-holds",
                                           "v5-estimates-overruns-drift", "v6-budget-alerts"])
    }
}
