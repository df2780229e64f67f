import Foundation
import Synchronization
import Testing
import PostgresNIO
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

/// What only the shared ledger has: instances, their expiry, migrations run by several processes at once, URLs,
/// and an unreachable server. The accounting contract itself is tested on both backends by the other suites.
@Suite("PostgreSQL ledger: instances, migrations, connections", .enabled(if: PostgresTestCluster.requirement.shouldRun))
struct PostgresLedgerTests {
    func configuration(heartbeat: Duration = .milliseconds(200), expiry: Duration = .seconds(1)) -> PostgresUsageStore.Configuration {
        var c = PostgresUsageStore.Configuration.testing(stride: 1)
        c.heartbeatInterval = heartbeat
        c.instanceExpiry = expiry
        return c
    }

    @Test("a dead instance's streams are settled once, as interrupted from their last checkpoints, by a survivor; a later instance settles nothing again")
    func deadInstanceIsSettledBySurvivors() async throws {
        try PostgresTestCluster.requirement.check()
        let url = try PostgresTestCluster.freshDatabase("expiry")
        defer { PostgresTestCluster.dropDatabase(url: url) }
        let victim = try await PostgresUsageStore.open(url: url, configuration: configuration())
        let c = try await Customer.add(victim, name: "ann", budget: Budget(monthlyLimit: usd("1")))
        var open: [Reservation] = []
        for i in 0..<3 {
            let r = try await victim.reserve(c.request("s\(i)", cost: usd("0.1"), tokens: 1_000))
            try await victim.checkpoint(r, usage: localUsage(prompt: 10, completion: Int64(5 * (i + 1))))
            open.append(r)
        }
        await victim.abandon()  // kill -9: no settle, no close, its instance row stays

        let survivor = try await PostgresUsageStore.open(url: url, configuration: configuration())
        let deadline = ContinuousClock.now + .seconds(10)
        var records: [UsageRecord] = []
        while ContinuousClock.now < deadline {
            records = try await survivor.exportRecords(afterID: 0, limit: 100)
            if records.count == 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(records.count == 3)
        for (i, record) in records.sorted(by: { $0.requestID < $1.requestID }).enumerated() {
            #expect(record.status == .interrupted)
            #expect(record.usage == localUsage(prompt: 10, completion: Int64(5 * (i + 1))))
        }
        #expect(try await survivor.remaining(userID: c.user.id).liveReservations == 0)

        let restarted = try await PostgresUsageStore.open(url: url, configuration: configuration())
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await restarted.exportRecords(afterID: 0, limit: 100).count == 3)
        #expect(try await restarted.auditBooks(expectNoReservations: true).isEmpty)
        try await restarted.close()
        try await survivor.close()
    }

    @Test("an instance taken for dead while the database was away registers again; its late settle finds the survivors' record")
    func expiredInstanceRegistersAgain() async throws {
        try PostgresTestCluster.requirement.check()
        let url = try PostgresTestCluster.freshDatabase("reregister")
        defer { PostgresTestCluster.dropDatabase(url: url) }
        let slow = try await PostgresUsageStore.open(url: url, configuration: configuration(heartbeat: .seconds(3600), expiry: .seconds(30)))
        let c = try await Customer.add(slow, name: "ann", budget: .unlimited)
        let r = try await slow.reserve(c.request("late", cost: usd("0.1")))
        try await slow.checkpoint(r, usage: localUsage(prompt: 3, completion: 4))
        let before = slow.instance.withLock { $0 }
        // The others see a heartbeat older than the expiry, as if `slow` had lost the database for that long.
        // No background heartbeat on `other` either: the expiry below is the test's own call.
        let other = try await PostgresUsageStore.open(url: url, configuration: configuration(heartbeat: .seconds(3600), expiry: .seconds(30)))
        _ = try await other.write { conn in try await conn.query("UPDATE instances SET heartbeat_at = 0 WHERE id = \(before)", logger: other.logger) }
        #expect(try await other.expireInstances() == 1)

        // Its next reservation finds its row gone, registers again and goes through.
        let next = try await slow.reserve(c.request("next", cost: .zero))
        let after = slow.instance.withLock { $0 }
        #expect(after != nil && after != before)
        let late = try await slow.settle(r, usage: localUsage(prompt: 3, completion: 9), status: .completed)
        #expect(late.wasAlreadySettled)
        #expect(late.record.status == .interrupted)
        #expect(late.record.usage == localUsage(prompt: 3, completion: 4))
        _ = try await slow.settle(next, usage: .zero, status: .completed)
        try await slow.close()
        try await other.close()
        #expect(try await PostgresUsageStore.open(url: url, configuration: .testing(role: .administration))
            .openReservationCount() == 0)
    }

    @Test("an instance that closes settles only what it holds itself; another instance's streams stay open")
    func closeLeavesOthersAlone() async throws {
        try PostgresTestCluster.requirement.check()
        let url = try PostgresTestCluster.freshDatabase("close")
        defer { PostgresTestCluster.dropDatabase(url: url) }
        // A long expiry: on a loaded machine a 1 s expiry lets `b` take `a` for dead, which is another test's subject.
        let a = try await PostgresUsageStore.open(url: url, configuration: configuration(expiry: .seconds(30)))
        let b = try await PostgresUsageStore.open(url: url, configuration: configuration(expiry: .seconds(30)))
        let c = try await Customer.add(a, name: "ann", budget: .unlimited)
        let onA = try await a.reserve(c.request("on-a", cost: usd("0.1")))
        let onB = try await b.reserve(c.request("on-b", cost: usd("0.1")))
        try await b.checkpoint(onB, usage: localUsage(prompt: 2, completion: 2))
        try await Task.sleep(for: .milliseconds(300))  // a heartbeat or two on both
        try await b.close()
        let records = try await a.exportRecords(afterID: 0, limit: 10)
        #expect(records.map(\.requestID) == ["on-b"])
        #expect(records.first?.status == .interrupted)
        #expect(try await a.remaining(userID: c.user.id).liveReservations == 1)
        _ = try await a.settle(onA, usage: .zero, status: .completed)
        try await a.close()
    }

    @Test("five stores opening a new database at once apply the migration once")
    func concurrentFirstOpen() async throws {
        try PostgresTestCluster.requirement.check()
        let url = try PostgresTestCluster.freshDatabase("migrate")
        defer { PostgresTestCluster.dropDatabase(url: url) }
        let stores = try await withThrowingTaskGroup(of: PostgresUsageStore.self) { group in
            for _ in 0..<5 { group.addTask { try await PostgresUsageStore.open(url: url, configuration: configuration()) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for store in stores { #expect(try await store.schemaVersion() == PostgresMigrations.names.last) }
        let applied = try await stores[0].read { c in
            try await c.query("SELECT COUNT(*) FROM tokenmeter_migrations", logger: stores[0].logger).decode(Int64.self)
                .first { _ in true }
        }
        #expect(applied == Int64(PostgresMigrations.all.count))
        for store in stores { try await store.close() }
    }

    @Test("records are append-only and the schema's checks hold on PostgreSQL too")
    func constraints() async throws {
        try await TestLedger.with(.postgres) { ledger in
            let store = try #require(ledger.store as? PostgresUsageStore)
            let c = try await Customer.add(store, name: "ann", budget: .unlimited)
            let r = try await store.reserve(c.request("x", cost: .zero))
            _ = try await store.settle(r, usage: localUsage(prompt: 1, completion: 1), status: .completed)
            for sql in ["UPDATE usage_records SET cost_pusd = 0", "DELETE FROM usage_records", "TRUNCATE usage_records CASCADE",
                        "INSERT INTO users (name, created_at) VALUES ('-bad', 0)", "INSERT INTO users (name, created_at) VALUES ('ANN', 0)",
                        "INSERT INTO budgets VALUES (\(c.user.id), -5, NULL, NULL)"] {
                await #expect(throws: LedgerError.self, "\(sql)") {
                    try await store.write { conn in try await conn.query(PostgresQuery(unsafeSQL: sql), logger: store.logger) }
                }
            }
        }
    }

    @Test("ledger calls running while the database stops, or crashes and restarts, all return; afterwards the store works",
          .enabled(if: PrivatePostgresCluster.requirement.shouldRun))
    func callsReturnWhenTheDatabaseGoesAway() async throws {
        try PrivatePostgresCluster.requirement.check()
        // Its own cluster restarted four times, and bounds on how soon calls return: not beside the heavy suites.
        try await ProcessResourceGate.shared.exclusive { try await callsReturn() }
    }

    private func callsReturn() async throws {
        let cluster = try PrivatePostgresCluster()
        defer { cluster.shutDown() }
        var c = configuration(heartbeat: .seconds(1), expiry: .seconds(30))
        c.connectionWait = .seconds(1)
        // The setup may meet the 1 s connection wait too, on a machine busy with the other suites' start (seen in
        // clean-clone runs): it is retried like the calls after the cycles.
        let setup = ContinuousClock.now + .seconds(30)
        let store = try await Self.retrying(until: setup) { try await PostgresUsageStore.open(url: cluster.url, configuration: c) }
        let ann = try await Self.retrying(until: setup) { try await Customer.add(store, name: "ann", budget: .unlimited) }
        var streams: [Reservation] = []
        for i in 0..<8 {
            streams.append(try await Self.retrying(until: setup) { try await store.reserve(ann.request("r\(i)", cost: usd("0.001"), tokens: 100)) })
        }
        let running = Shared(0)
        for cycle in 0..<4 {
            let stop = Shared(false)
            let loops = streams.map { r in
                Task {
                    var tokens: Int64 = 1
                    while !stop.value {
                        running.update { $0 += 1 }
                        _ = try? await store.writeCheckpoint(reservationID: r.id, requestID: r.requestID,
                                                             usage: localUsage(prompt: 10, completion: tokens))
                        _ = try? await store.remaining(userID: ann.user.id)
                        running.update { $0 -= 1 }
                        tokens += 1
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            if cycle % 2 == 0 { try cluster.stop() } else { try cluster.restart() }
            try await Task.sleep(for: .milliseconds(1_200))
            try cluster.start()
            try await Task.sleep(for: .milliseconds(500))
            stop.update { $0 = true }
            let deadline = ContinuousClock.now + .seconds(10)
            while running.value > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            guard running.value == 0 else {
                Issue.record("cycle \(cycle): \(running.value) ledger calls never returned")
                return  // their tasks stay stuck; waiting for them would hang the run
            }
            for loop in loops { await loop.value }
        }
        // The database is back; on a loaded machine the pool may need a few connection waits (1 s each here) to
        // replace its connections, as the server's settle retries would: every call after the cycles may meet one.
        let deadline = ContinuousClock.now + .seconds(30)
        for r in streams {
            _ = try await Self.retrying(until: deadline) {
                try await store.settle(r, usage: localUsage(prompt: 10, completion: 1), status: .completed)
            }
        }
        #expect(try await Self.retrying(until: deadline) { try await store.auditBooks(expectNoReservations: true) }.isEmpty)
        // close() shuts the pool down whatever happens, so it is not retried: its last write (this instance's expiry)
        // may meet the same wait, which leaves the row for the next instance to expire.
        do { try await store.close() } catch LedgerError.databaseUnavailable {}
    }

    /// `call`, again while it fails with `databaseUnavailable` (a connection wait that ran out) before `deadline`.
    private static func retrying<T>(until deadline: ContinuousClock.Instant, _ call: () async throws -> T) async throws -> T {
        while true {
            do { return try await call() } catch LedgerError.databaseUnavailable where ContinuousClock.now < deadline { continue }
        }
    }

    @Test("an unreachable server fails within the connection wait, naming the cause")
    func unreachable() async throws {
        // A bound on elapsed time: not beside the suites that load the machine (and block its two pool threads).
        try await ProcessResourceGate.shared.exclusive { try await unreachableServer() }
    }

    private func unreachableServer() async throws {
        var c = PostgresUsageStore.Configuration.testing()
        c.connectionWait = .seconds(2)  // long enough for the pool's first attempts to fail on a loaded machine
        let start = ContinuousClock.now
        await #expect { try await PostgresUsageStore.open(url: "postgres://postgres@127.0.0.1:1/none", configuration: c) } throws: {
            guard case LedgerError.databaseUnavailable(let reason) = $0 else { return false }
            return reason.contains("127.0.0.1:1") && reason.contains("refused")
        }
        // Bounded, not hung: the 2 s wait, with room for the start of a clean-clone `make test`, where the other suites'
        // start-up kept the pool's threads from running for over 10 s (seen once at 16 s).
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test("URLs: postgres:// and postgresql:// with user, password, port, database and sslmode; anything else is a path")
    func urls() throws {
        let u = try PostgresURL("postgresql://tm%40corp:p%3Ass@db.example:6543/ledger?sslmode=disable")
        #expect(u.user == "tm@corp" && u.password == "p:ss" && u.host == "db.example" && u.port == 6543 && u.database == "ledger")
        #expect(try PostgresURL("postgres://tm@db/ledger").port == 5432)
        for bad in ["postgres://db/ledger", "postgres://tm@db", "postgres://tm@db/ledger?sslmode=sometimes",
                    "postgres://tm@db/ledger?timezone=UTC"] {
            #expect(throws: LedgerError.self, "\(bad)") { try PostgresURL(bad) }
        }
        #expect(LedgerLocation("postgres://tm:secret@db/ledger").description == "postgres://tm:***@db/ledger")
        #expect(LedgerLocation("./tokenmeter.sqlite") == .sqlite(path: "./tokenmeter.sqlite"))
        #expect(LedgerLocation("postgresql://tm@db/l") == .postgres(url: "postgresql://tm@db/l"))
    }
}

/// A value tasks share under a lock.
final class Shared<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>
    init(_ value: Value) { stored = Mutex(value) }
    var value: Value { stored.withLock { $0 } }
    func update(_ change: (inout Value) -> Void) { stored.withLock { change(&$0) } }
}
