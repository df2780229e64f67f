import Foundation
import GRDB
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("v3-daily-rollup migration")
struct DailyRollupMigrationTests {
    @Test("a v2 ledger upgrades: daily_usage is backfilled from the records and the report equals them")
    func backfill() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("v2.sqlite")
        let queue = try DatabaseQueue(path: path)
        try LedgerMigrations.migrator.migrate(queue, upTo: "v2-monthly-rollup")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO users (id, name, status, created_at) VALUES (1, 'ann', 'active', 0), (2, 'bob', 'disabled', 0);
                INSERT INTO api_keys (id, user_id, prefix, key_sha256, created_at)
                    VALUES (1, 1, 'abcdefgh', zeroblob(32), 0), (2, 2, 'bcdefghi', zeroblob(32), 0);
                INSERT INTO usage_records (request_id, user_id, api_key_id, model, upstream, started_at, ended_at, status,
                    prompt_tokens, completion_tokens, provider_prompt_tokens, provider_completion_tokens,
                    provider_cached_tokens, provider_reasoning_tokens, billed_by, billed_tokens, cost_pusd) VALUES
                  ('a', 1, 1, 'm1', 'openai', 1835481599000, 1835481599999, 'completed', 10, 5, 11, 5, 3, NULL, 'provider', 16, 1600001),
                  ('b', 1, 1, 'm1', 'openai', 1835308800000, 1835308800000, 'cut_by_budget', 7, 2, NULL, NULL, NULL, NULL, 'local', 9, 900007),
                  ('c', 2, 2, 'm2', 'openai', 1835481600000, 1835481600000, 'interrupted', 1, 1, NULL, NULL, NULL, NULL, 'local', 2, 3);
                """)
        }
        try queue.close()
        var configuration = SQLiteUsageStore.Configuration()
        configuration.role = .administration
        configuration.now = { utc(2028, 4, 1) }
        let store = try SQLiteUsageStore(path: path, configuration: configuration)
        #expect(try await store.schemaVersion() == "v6-budget-alerts")
        try assertDailyRollupMatchesRecords(path: path)
        let february = try await store.monthlyReport(for: february2028, userName: nil)
        #expect(february.totals.requests == 2)
        #expect(february.totals.cost == Money(picoUSD: 1_600_001 + 900_007))
        #expect(february.totals.cachedTokens == 3)
        #expect(february.totals.reasoningTokens == nil)
        #expect(february.totals.outcomes.cutByBudget == 1)
        #expect(february.days.last?.totals.requests == 1)
        let march = try await store.monthlyReport(for: BillingPeriod(year: 2028, month: 3)!, userName: nil)
        #expect(march.totals.cost == Money(picoUSD: 3))
        #expect(march.users.first { $0.user.name == "bob" }?.user.status == .disabled)
    }
}
