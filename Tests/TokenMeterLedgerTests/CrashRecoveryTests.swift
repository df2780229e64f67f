import Foundation
import GRDB
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Crash recovery")
struct CrashRecoveryTests {
    @Test("reopening as owner settles open reservations as interrupted at their last checkpoint, once")
    func inProcessRecovery() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        let clock = TestClock(midJune2025)
        var store: SQLiteUsageStore? = try SQLiteUsageStore(path: path, configuration: .testing(clock: clock, stride: 1))
        let c = try await Customer.add(store!, name: "ann", budget: Budget(monthlyLimit: usd("10")))
        let never = try await store!.reserve(c.request("never-checkpointed", cost: usd("1")))
        let some = try await store!.reserve(c.request("checkpointed", cost: usd("1")))
        clock.advance(seconds: 2)
        try await store!.checkpoint(some, usage: localUsage(prompt: 10, completion: 40))
        let done = try await store!.reserve(c.request("settled", cost: usd("1")))
        _ = try await store!.settle(done, usage: localUsage(prompt: 1, completion: 2), status: .completed)
        _ = never
        store = nil // the process "dies" with two reservations open

        clock.advance(seconds: 60)
        let reopened = try SQLiteUsageStore(path: path, configuration: .testing(clock: clock))
        #expect(reopened.recoveredReservations == 2)
        let records = try await reopened.pool.read { db in
            try UsageRecordRow.order(Column("request_id")).fetchAll(db).map(\.record)
        }
        #expect(records.map(\.requestID) == ["checkpointed", "never-checkpointed", "settled"])
        #expect(records.map(\.status) == [.interrupted, .interrupted, .completed])
        #expect(records[0].usage == localUsage(prompt: 10, completion: 40))
        #expect(records[0].endedAt == midJune2025 + 2) // the last checkpoint, not the reopen time
        #expect(records[1].usage == .zero)
        #expect(records[1].endedAt == records[1].startedAt)
        let status = try await reopened.remaining(userID: c.user.id)
        #expect(status.liveReservations == 0)
        #expect(status.settledCost == Money(picoUSD: 50_000 + 3_000))
        try assertBooksBalance(path: path)
    }

    @Test("an administration open leaves a live owner's reservations alone")
    func adminDoesNotRecover() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        let owner = try SQLiteUsageStore(path: path)
        let c = try await Customer.add(owner, name: "ann", budget: .unlimited)
        let r = try await owner.reserve(c.request("live", cost: usd("1")))
        let admin = try SQLiteUsageStore(path: path, configuration: .testing(role: .administration))
        #expect(admin.recoveredReservations == 0)
        #expect(try await admin.remaining(userID: c.user.id).liveReservations == 1)
        _ = try await owner.settle(r, usage: .zero, status: .completed)
    }

    @Test("recovery is idempotent: a reservation whose request already has a record is only released")
    func recoveryIdempotent() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        let store = try SQLiteUsageStore(path: path)
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("dup", cost: usd("1")))
        _ = try await store.settle(r, usage: localUsage(prompt: 1, completion: 1), status: .completed)
        try await store.pool.write { db in
            // A leftover reservation row for an already-settled request (cannot happen through the API).
            try db.execute(sql: """
                INSERT INTO reservations (request_id, user_id, api_key_id, model, upstream, started_at, held_pusd, held_tokens)
                VALUES ('dup', ?, ?, 'm', 'u', 0, 5, 5)
                """, arguments: [c.user.id, c.key.info.id])
        }
        let recovered = try await store.pool.write(SQLiteUsageStore.recoverOpenReservations)
        #expect(recovered == 0)
        #expect(try await store.remaining(userID: c.user.id).settledRequests == 1)
        #expect(try await store.pool.write(SQLiteUsageStore.recoverOpenReservations) == 0)
        try assertBooksBalance(path: path)
    }

    @Test("kill -9 with 20 open reservations: reopen settles all 20 as interrupted at their last written checkpoint")
    func sigkillSteady() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        do {
            let setup = try SQLiteUsageStore(path: path)
            let c = try await Customer.add(setup, name: "crash", budget: Budget(monthlyLimit: usd("100")))
            let r = try await setup.reserve(c.request("before", cost: usd("1")))
            _ = try await setup.settle(r, usage: localUsage(prompt: 7, completion: 3, pricePico: 2_000), status: .completed)
        }
        let child = try ChildProcess("ledger-crash-helper", [path, "crash", "steady", "20"])
        try await child.waitForLine("ready")
        try await child.kill()

        // What the helper saw written, per request id: (completion tokens, cost).
        var expected: [String: (Int64, Int64)] = [:]
        for line in child.output where line.hasPrefix("written ") {
            let f = line.split(separator: " ")
            expected[String(f[1])] = (Int64(f[2])!, Int64(f[3])!)
        }
        #expect(expected.count == 20)

        let store = try SQLiteUsageStore(path: path)
        #expect(store.recoveredReservations == 20)
        let records = try await store.pool.read { try UsageRecordRow.fetchAll($0) }
        #expect(records.count == 21)
        for record in records where record.requestID != "before" {
            #expect(record.status == .interrupted)
            let (tokens, cost) = try #require(expected[record.requestID])
            #expect(record.usage.completionTokens == tokens, "\(record.requestID)")
            #expect(record.usage.cost.picoUSD == cost, "\(record.requestID)")
        }
        // Reservation i streamed 5 + 3i tokens, checkpoints written every 10: spot-check the arithmetic.
        #expect(expected["steady-0"]! == (0, 0))
        #expect(expected["steady-19"]! == (60, 160 * 2_000))
        let status = try await store.remaining(userID: records[0].userID)
        let sum = records.reduce(Money.zero) { $0 + $1.usage.cost }
        #expect(status.settledCost == sum)
        #expect(status.settledRequests == 21)
        #expect(status.heldCost == .zero)
        try assertBooksBalance(path: path)
    }

    @Test("kill -9 while reserving, checkpointing and settling: every request has exactly one record, at its last checkpoint")
    func sigkillChurn() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        do {
            let setup = try SQLiteUsageStore(path: path)
            _ = try await setup.addUser(name: "crash", budget: Budget(monthlyLimit: usd("1000")))
        }
        let child = try ChildProcess("ledger-crash-helper", [path, "crash", "churn", "20"])
        try await child.waitForLine("ready")
        // Let it run until it has settled a few requests, so the kill lands amid reserves, checkpoints and settles.
        try await child.waitForLine(where: { $0 == "settled churn-19" }, described: "settled churn-19") // the 4th settle
        try await Task.sleep(for: .milliseconds(50))
        try await child.kill()
        let reserved = Set(child.output.filter { $0.hasPrefix("reserved ") }.map { String($0.dropFirst(9)) })
        let settled = Set(child.output.filter { $0.hasPrefix("settled ") }.map { String($0.dropFirst(8)) })
        #expect(settled.count >= 4)

        // The open reservations and their checkpoints as the crash left them, read without recovering.
        let open = try await DatabaseQueue(path: path).read { db in
            try ReservationRow.fetchAll(db)
        }
        #expect((19...20).contains(open.count)) // 19 if killed between a settle and the replacement's reserve
        let store = try SQLiteUsageStore(path: path)
        #expect(store.recoveredReservations == open.count)
        let records = try await store.pool.read { try UsageRecordRow.fetchAll($0) }
        let byID = Dictionary(grouping: records, by: \.requestID)
        #expect(byID.values.allSatisfy { $0.count == 1 })
        #expect(reserved.isSubset(of: Set(byID.keys)), "every request the helper announced has a record")
        #expect(settled.allSatisfy { byID[$0]?.first?.status == .completed })
        for row in open {
            let record = try #require(byID[row.requestID]?.first)
            #expect(record.status == .interrupted)
            #expect(record.usage == row.checkpoint)
        }
        try assertBooksBalance(path: path)
    }
}
