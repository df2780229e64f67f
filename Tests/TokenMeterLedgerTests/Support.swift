import Foundation
import GRDB
import Synchronization
import Testing
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterTestSupport

/// 2025-06-15 12:00:00 UTC.
let midJune2025 = Date(timeIntervalSince1970: 1_749_988_800)

extension SQLiteUsageStore.Configuration {
    /// Owner configuration with the given clock and checkpoint policy.
    static func testing(clock: TestClock? = nil, role: SQLiteUsageStore.Role = .owner,
                        interval: Duration = .seconds(1), stride: Int64 = 256) -> Self {
        var c = Self()
        c.role = role
        c.checkpointInterval = interval
        c.checkpointTokenStride = stride
        if let clock { c.now = { clock.now } }
        return c
    }
}

/// A user with one key, ready to reserve.
struct Customer {
    let user: User
    let key: IssuedAPIKey

    static func add(_ store: any LedgerAdministration, name: String, budget: Budget) async throws -> Customer {
        let user = try await store.addUser(name: name, budget: budget)
        return Customer(user: user, key: try await store.createAPIKey(userID: user.id))
    }

    func request(_ id: String, cost: Money, tokens: Int64 = 0, model: String = "gpt-4o-mini") -> ReservationRequest {
        ReservationRequest(requestID: id, userID: user.id, apiKeyID: key.info.id, model: model, upstream: "openai",
                           estimate: UsageEstimate(cost: cost, tokens: tokens))
    }
}

/// Money from a decimal USD literal in tests.
func usd(_ text: String) -> Money { try! Money(parsing: text) }

/// Local-count usage whose cost is `pricePico` per token over prompt + completion.
func localUsage(prompt: Int64, completion: Int64, pricePico: Int64 = 1_000) -> MeteredUsage {
    MeteredUsage(promptTokens: prompt, completionTokens: completion,
                 cost: Money(picoUSD: (prompt + completion) * pricePico))
}

/// Independent checks of the books, read with a plain GRDB connection (not through the store):
/// integrity, no reservations left if `expectNoReservations`, and the monthly and daily rollups equal to the
/// records.
func assertBooksBalance(path: String, expectNoReservations: Bool = true) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.read { db in
        #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
        #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
        if expectNoReservations {
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations") == 0)
        }
        let fromRecords = try Row.fetchAll(db, sql: """
            SELECT user_id, strftime('%Y-%m', ended_at / 1000, 'unixepoch') AS period, COUNT(*) AS n,
                   SUM(billed_tokens) AS tokens, SUM(cost_pusd) AS pusd, SUM(estimated_pusd) AS estimated
            FROM usage_records GROUP BY 1, 2 ORDER BY 1, 2
            """)
        let rollup = try Row.fetchAll(db, sql: """
            SELECT user_id, period, request_count AS n, billed_tokens AS tokens, cost_pusd AS pusd,
                   estimated_pusd AS estimated
            FROM monthly_usage ORDER BY 1, 2
            """)
        #expect(fromRecords == rollup)
        #expect(try Row.fetchAll(db, sql: LedgerRollupSQL.dailyFromRecords) == Row.fetchAll(db, sql: "SELECT * FROM daily_usage ORDER BY 1, 2, 3"))
        #expect(try Row.fetchAll(db, sql: holdsFromReservations) == Row.fetchAll(db, sql: """
            SELECT user_id, live, held_pusd, held_tokens FROM user_holds WHERE live > 0 ORDER BY 1
            """))
        #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM user_holds WHERE live = 0 AND (held_pusd != 0 OR held_tokens != 0)") == 0)
    }
}

/// `user_holds` recomputed from the live reservations, in its column order (users with none left out).
let holdsFromReservations = """
    SELECT user_id, COUNT(*) AS live, SUM(MAX(held_pusd, cost_pusd)) AS held_pusd,
           SUM(MAX(held_tokens, billed_tokens)) AS held_tokens
    FROM reservations GROUP BY user_id ORDER BY 1
    """

/// A fresh ledger in a temporary directory, opened as owner on a test clock at mid-June 2025 with a
/// checkpoint stride of 1 (every checkpoint is written): the directory (keep it alive), the file, the clock
/// and the store.
func ownedTestLedger() throws -> (TemporaryDirectory, String, TestClock, SQLiteUsageStore) {
    let dir = try TemporaryDirectory()
    let path = dir.path("ledger.sqlite")
    let clock = TestClock(midJune2025)
    return (dir, path, clock, try SQLiteUsageStore(path: path, configuration: .testing(clock: clock, stride: 1)))
}

