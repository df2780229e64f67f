import Foundation
import GRDB
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Checkpoint coalescing")
struct CheckpointCoalescingTests {
    let t0 = ContinuousClock.now

    func usage(_ completion: Int64) -> MeteredUsage { localUsage(prompt: 10, completion: completion) }

    /// The coalescer's key for reservation `id` of request `req-<id>`.
    func stream(_ id: Int64) -> CheckpointCoalescer.StreamID { .init(reservationID: id, requestID: "req-\(id)") }

    /// The completion tokens of the (one) open reservation's last checkpoint in the ledger.
    func checkpointedTokens(_ store: SQLiteUsageStore) async throws -> Int64? {
        try await store.pool.read { try Int64.fetchOne($0, sql: "SELECT completion_tokens FROM reservations") }
    }

    @Test("within the interval, only every tokenStride-th token is written; the rest stays pending")
    func strideRule() {
        var c = CheckpointCoalescer(policy: .init(interval: .seconds(1), tokenStride: 50))
        c.reserved(stream(1), at: t0)
        var writes: [Int64] = []
        for tokens in 1...200 as ClosedRange<Int64> {
            if case .write(let u) = c.checkpoint(stream(1), usage: usage(tokens), at: t0 + .milliseconds(tokens)) {
                writes.append(u.completionTokens)
            }
        }
        #expect(writes == [50, 100, 150, 200])
        #expect(!c.hasPending(stream(1)))
        _ = c.checkpoint(stream(1), usage: usage(201), at: t0 + .milliseconds(201))
        #expect(c.hasPending(stream(1)))
    }

    @Test("with few tokens, at most one write per interval per stream")
    func intervalRule() {
        var c = CheckpointCoalescer(policy: .init(interval: .seconds(1), tokenStride: 1_000_000))
        c.reserved(stream(1), at: t0)
        c.reserved(stream(2), at: t0)
        var writes: [(Int64, Int64)] = []
        // 10 seconds at one token per 100 ms on each of two streams: 100 offers each.
        for step in 1...100 as ClosedRange<Int64> {
            for id: Int64 in [1, 2] {
                if case .write(let u) = c.checkpoint(stream(id), usage: usage(step), at: t0 + .milliseconds(100 * step)) {
                    writes.append((id, u.completionTokens))
                }
            }
        }
        #expect(writes.filter { $0.0 == 1 }.map(\.1) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
        #expect(writes.filter { $0.0 == 2 }.count == 10)
    }

    @Test("flushAll returns each pending checkpoint once, in reservation order; ended streams are forgotten")
    func flush() {
        var c = CheckpointCoalescer(policy: .init(interval: .seconds(1), tokenStride: 100))
        for id: Int64 in [3, 1, 2] { c.reserved(stream(id), at: t0) }
        _ = c.checkpoint(stream(3), usage: usage(5), at: t0)
        _ = c.checkpoint(stream(1), usage: usage(7), at: t0)
        c.ended(stream(2))
        let flushed = c.flushAll(at: t0)
        #expect(flushed.map(\.stream.reservationID) == [1, 3])
        #expect(flushed.map(\.usage.completionTokens) == [7, 5])
        #expect(c.flushAll(at: t0).isEmpty)
        #expect(c.streamCount == 2)
    }

    @Test("an unknown stream writes through")
    func unknownStream() {
        var c = CheckpointCoalescer(policy: .init(interval: .seconds(1), tokenStride: 100))
        #expect(c.checkpoint(stream(9), usage: usage(1), at: t0) == .write(usage(1)))
    }

    @Test("through the store: 1,000 per-token checkpoints make 10 writes at stride 100; flush and settle write the rest")
    func storeWrites() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: .testing(interval: .seconds(3600), stride: 100))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("req", cost: usd("1")))
        var written = 0
        for tokens in 1...1_005 as ClosedRange<Int64> {
            if try await store.checkpoint(r, usage: usage(tokens)) == .written { written += 1 }
        }
        #expect(written == 10)
        #expect(try await checkpointedTokens(store) == 1_000)
        #expect(try await store.flushCheckpoints() == 1)
        #expect(try await checkpointedTokens(store) == 1_005)
        #expect(try await store.flushCheckpoints() == 0)
        let outcome = try await store.settle(r, usage: usage(1_010), status: .completed)
        #expect(outcome.record.usage.completionTokens == 1_010)
        #expect(store.coalescer.withLock { $0.streamCount } == 0)
    }

    @Test("through the store: a stream offering checkpoints every 5 ms writes at most once per 100 ms interval")
    func storeInterval() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"),
                                         configuration: .testing(interval: .milliseconds(100), stride: 1_000_000))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let beforeReserve = ContinuousClock.now
        let r = try await store.reserve(c.request("req", cost: usd("1")))
        let afterReserve = ContinuousClock.now
        var written = 0, offered = 0
        // The loop also goes on until one offer came more than 100 ms after the reservation: on a starved
        // machine (the sanitizer runs, docs/ROBUSTNESS.md) 550 ms could pass before a second iteration.
        var offeredWhenDue = false
        while ContinuousClock.now - afterReserve < .milliseconds(550) || !offeredWhenDue {
            let offeredAt = ContinuousClock.now
            offered += 1
            if try await store.checkpoint(r, usage: usage(Int64(offered))) == .written { written += 1 }
            if offeredAt - afterReserve > .milliseconds(100) { offeredWhenDue = true }
            try await Task.sleep(for: .milliseconds(5))
        }
        let elapsed = ContinuousClock.now - beforeReserve
        // Each write is ≥ 100 ms after the previous one (the reservation, registered between beforeReserve
        // and afterReserve, counts as the first), so however slow the machine, writes ≤ elapsed / 100 ms;
        // and offers made more than 100 ms after afterReserve (the loop runs 550 ms) are due.
        #expect(written >= 1)
        #expect(written <= Int(elapsed / .milliseconds(100)), "wrote \(written) of \(offered) in \(elapsed)")
    }

    @Test("a failed write is pending again, unless a newer checkpoint is already waiting")
    func failedWriteIsPendingAgain() {
        var c = CheckpointCoalescer(policy: .init(interval: .seconds(1), tokenStride: 10))
        c.reserved(stream(1), at: t0)
        #expect(c.checkpoint(stream(1), usage: usage(10), at: t0) == .write(usage(10)))
        c.writeFailed(stream(1), usage: usage(10))
        #expect(c.flushAll(at: t0).map(\.usage.completionTokens) == [10])
        #expect(c.checkpoint(stream(1), usage: usage(20), at: t0) == .write(usage(20)))
        #expect(c.checkpoint(stream(1), usage: usage(21), at: t0) == .none)
        c.writeFailed(stream(1), usage: usage(20))  // the pending 21 is newer: it stays
        #expect(c.flushAll(at: t0).map(\.usage.completionTokens) == [21])
        c.ended(stream(1))
        c.writeFailed(stream(1), usage: usage(30))  // a settled stream is not brought back
        #expect(c.streamCount == 0)
    }

    @Test("an older checkpoint written after a newer one leaves the newer one in the ledger (flush racing the stream)")
    func olderCheckpointNeverOverwritesNewer() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: .testing(interval: .seconds(3600), stride: 1_000_000))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("req", cost: usd("1")))
        try await store.writeCheckpoint(reservationID: r.id, requestID: r.requestID, usage: usage(61))
        try await store.writeCheckpoint(reservationID: r.id, requestID: r.requestID, usage: usage(43))
        #expect(try await checkpointedTokens(store) == 61)
        try await store.writeCheckpoint(reservationID: r.id, requestID: r.requestID, usage: usage(61))
        try await store.writeCheckpoint(reservationID: r.id, requestID: r.requestID, usage: usage(62))
        #expect(try await checkpointedTokens(store) == 62)
        _ = try await store.settle(r, usage: usage(70), status: .completed)
        await #expect(throws: LedgerError.self) {
            try await store.writeCheckpoint(reservationID: r.id, requestID: r.requestID, usage: usage(80))
        }
    }

    @Test("a stream that took a settled stream's reservation id is a stream of its own in the coalescer")
    func reusedReservationID() {
        var c = CheckpointCoalescer(policy: .init(interval: .seconds(1), tokenStride: 100))
        let first = CheckpointCoalescer.StreamID(reservationID: 1, requestID: "first")
        let next = CheckpointCoalescer.StreamID(reservationID: 1, requestID: "next")
        c.reserved(first, at: t0)
        c.ended(first)
        c.reserved(next, at: t0)
        // The settled stream's late checkpoint is not held back in the new stream's place: it writes through
        // (and the ledger refuses it), and neither its failure nor its late end touches the new stream.
        #expect(c.checkpoint(first, usage: usage(5), at: t0) == .write(usage(5)))
        c.writeFailed(first, usage: usage(5))
        #expect(!c.hasPending(next))
        c.ended(first)
        #expect(c.streamCount == 1)
        #expect(c.checkpoint(next, usage: usage(5), at: t0) == .none)
        #expect(c.hasPending(next))
    }

    @Test("a late checkpoint of a settled stream never lands in the reservation that took its id, held back or written at once")
    func lateCheckpointAfterIDReuse() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        let store = try SQLiteUsageStore(path: path, configuration: .testing(interval: .seconds(3600), stride: 100))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let first = try await store.reserve(c.request("first", cost: usd("1")))
        _ = try await store.settle(first, usage: usage(5), status: .completed)
        let next = try await store.reserve(c.request("next", cost: usd("1")))
        #expect(next.id == first.id) // SQLite gives the deleted largest rowid to the next insert
        // Within the interval and the stride (it would be held back), then past the stride (written at once).
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "first")) {
            try await store.checkpoint(first, usage: usage(6))
        }
        #expect(try await store.flushCheckpoints() == 0)
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "first")) {
            try await store.checkpoint(first, usage: usage(500))
        }
        #expect(try await checkpointedTokens(store) == 0)
        let outcome = try await store.settle(next, usage: usage(1), status: .completed)
        #expect(outcome.record.usage == usage(1))
        try assertBooksBalance(path: path)
    }
}
