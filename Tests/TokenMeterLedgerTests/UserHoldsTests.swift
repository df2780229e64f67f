import GRDB
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

/// `user_holds` (migration v4): the live reservations' totals kept by triggers, which the reservation check
/// reads instead of summing the user's live reservations.
@Suite("User holds")
struct UserHoldsTests {
    let dir: TemporaryDirectory, path: String, clock: TestClock, store: SQLiteUsageStore

    init() throws { (dir, path, clock, store) = try ownedTestLedger() }

    func held(_ userID: Int64) async throws -> (live: Int64, cost: Money, tokens: Int64) {
        let status = try await store.remaining(userID: userID)
        return (status.liveReservations, status.heldCost, status.heldTokens)
    }

    @Test("reserve, checkpoint above and below the hold, settle: the totals follow MAX(held, used) per reservation")
    func followsEveryChange() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("10")))
        let bob = try await Customer.add(store, name: "bob", budget: .unlimited)
        let a1 = try await store.reserve(ann.request("a1", cost: usd("1"), tokens: 100))
        let a2 = try await store.reserve(ann.request("a2", cost: usd("0.5"), tokens: 40))
        _ = try await store.reserve(bob.request("b1", cost: usd("2"), tokens: 7))
        #expect(try await held(ann.user.id) == (2, usd("1.5"), 140))
        #expect(try await held(bob.user.id) == (1, usd("2"), 7))
        try assertBooksBalance(path: path, expectNoReservations: false)

        // a1 used less than it holds: the hold stays. a2 used more (60 tokens at 10^10 pUSD = 0.6 USD).
        _ = try await store.checkpoint(a1, usage: localUsage(prompt: 10, completion: 20))
        _ = try await store.checkpoint(a2, usage: localUsage(prompt: 20, completion: 40, pricePico: 10_000_000_000))
        #expect(try await held(ann.user.id) == (2, usd("1.6"), 160))
        try assertBooksBalance(path: path, expectNoReservations: false)

        _ = try await store.settle(a2, usage: localUsage(prompt: 20, completion: 41, pricePico: 10_000_000_000), status: .completed)
        #expect(try await held(ann.user.id) == (1, usd("1"), 100))
        let status = try await store.remaining(userID: ann.user.id)
        #expect(status.settledCost == usd("0.61"))
        try assertBooksBalance(path: path, expectNoReservations: false)

        _ = try await store.settle(a1, usage: localUsage(prompt: 10, completion: 25), status: .completed)
        #expect(try await held(ann.user.id) == (0, .zero, 0))
        #expect(try await held(bob.user.id) == (1, usd("2"), 7))
        try assertBooksBalance(path: path, expectNoReservations: false)
    }

    @Test("reopening settles the open reservations as interrupted and their holds go with them")
    func recoveryClearsHolds() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: .unlimited)
        _ = try await store.reserve(ann.request("a1", cost: usd("1"), tokens: 10))
        _ = try await store.reserve(ann.request("a2", cost: usd("1"), tokens: 10))
        try await store.close()
        let reopened = try SQLiteUsageStore(path: path, configuration: .testing(clock: clock))
        #expect(reopened.recoveredReservations == 2)
        #expect(try await reopened.remaining(userID: ann.user.id).liveReservations == 0)
        #expect(try await reopened.remaining(userID: ann.user.id).heldCost == .zero)
        try await reopened.close()
        try assertBooksBalance(path: path)
    }

    @Test("the migration backfills the holds of reservations a v3 process left open")
    func backfill() throws {
        let queue = try DatabaseQueue(path: dir.path("v3.sqlite"))
        try LedgerMigrations.migrator.migrate(queue, upTo: "v3-daily-rollup")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO users (id, name, created_at) VALUES (1, 'ann', 0), (2, 'bob', 0);
                INSERT INTO api_keys (id, user_id, prefix, key_sha256, created_at)
                    VALUES (1, 1, 'abcdefgh', zeroblob(32), 0), (2, 2, 'bcdefghi', zeroblob(32), 0);
                INSERT INTO reservations (request_id, user_id, api_key_id, model, upstream, started_at, held_pusd,
                  held_tokens, prompt_tokens, completion_tokens, billed_tokens, cost_pusd)
                VALUES ('r1', 1, 1, 'm', 'u', 0, 500, 50, 10, 70, 80, 800),
                       ('r2', 1, 1, 'm', 'u', 0, 300, 30, 1, 1, 2, 20),
                       ('r3', 2, 2, 'm', 'u', 0, 9, 9, 0, 0, 0, 0);
                """)
        }
        try LedgerMigrations.migrator.migrate(queue)
        try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT user_id, live, held_pusd, held_tokens FROM user_holds ORDER BY 1")
            #expect(rows == [
                ["user_id": 1, "live": 2, "held_pusd": 800 + 300, "held_tokens": 80 + 30],
                ["user_id": 2, "live": 1, "held_pusd": 9, "held_tokens": 9],
            ])
            #expect(try Row.fetchAll(db, sql: holdsFromReservations) == rows)
        }
    }

    @Test("a reservation cannot move to another user (the totals are per user)")
    func userIsFixed() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: .unlimited)
        let bob = try await Customer.add(store, name: "bob", budget: .unlimited)
        let r = try await store.reserve(ann.request("a1", cost: usd("1")))
        await #expect(throws: (any Error).self) {
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE reservations SET user_id = ? WHERE id = ?", arguments: [bob.user.id, r.id])
            }
        }
        #expect(try await held(ann.user.id) == (1, usd("1"), 0))
        try assertBooksBalance(path: path, expectNoReservations: false)
    }
}
