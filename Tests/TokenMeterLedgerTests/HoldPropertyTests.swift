import Foundation
import GRDB
import PropertyBased
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

/// Random programs against one user with random limits: admit a stream holding its prompt and a first slice of
/// output, extend its hold by part of what is free (sometimes by more, which must be refused), deliver
/// (checkpoint) within its hold, settle within its hold, crash and reopen as owner. After every step the ledger
/// must agree with a small model of it (``HoldProgram``) and keep its bars whatever the model says: no overspend,
/// settled + held within both monthly limits, no record past the per-request cap, `user_holds` equal to the sums
/// over the open reservations, exactly one record or one open reservation per admitted request.
///
/// 150 programs of 1 to 40 steps: about 10 s in a debug build on 2 cores. A failure prints the program (shrunk
/// when it can be) and the seed; to replay that program, add the `.fixedSeed("…")` trait from the message to the
/// `@Test` (do not commit it: the trait reports an issue of its own when nothing fails).
@Suite("Hold properties")
struct HoldPropertyTests {
    @Test("random programs of admit, extend, deliver, settle and crash keep the books after every step")
    func programsKeepTheBooks() async {
        // Ten seconds of ledgers opened and closed: the client's file-descriptor tests must not count them.
        await ProcessResourceGate.shared.enterShared()
        await propertyCheck(count: 150, input: HoldLimits.generator, HoldStep.program) { limits, steps in
            var program = try await HoldProgram(limits: limits)
            for (index, step) in steps.enumerated() {
                try await program.perform(step)
                try await program.check(after: "step \(index), \(step)")
            }
            try await program.windDown()
        }
        await ProcessResourceGate.shared.leaveShared()
    }
}

/// A user's random limits, in pico-USD and tokens; nil is no limit.
struct HoldLimits: Sendable, CustomStringConvertible {
    var monthlyUSD: Int64?
    var monthlyTokens: Int64?
    var perRequest: Int64?

    var budget: Budget {
        Budget(monthlyLimit: monthlyUSD.map(Money.init(picoUSD:)), monthlyTokenLimit: monthlyTokens,
               maxRequestCost: perRequest.map(Money.init(picoUSD:)))
    }

    /// Sized against the steps' holds (about 250,000 pUSD and 250 tokens on average): a month takes about eight,
    /// so programs run into every limit, and into a limit of zero now and then.
    static let generator = zip(Gen.int64(in: 0...4_000_000).optional, Gen.int64(in: 0...4_000).optional,
                               Gen.int64(in: 0...1_500_000).optional)
        .map { HoldLimits(monthlyUSD: $0.0, monthlyTokens: $0.1, perRequest: $0.2) }

    var description: String {
        func text(_ n: Int64?) -> String { n.map(String.init) ?? "none" }
        return "limits(month \(text(monthlyUSD)) pUSD, \(text(monthlyTokens)) tokens; request \(text(perRequest)) pUSD)"
    }
}

/// One step of a program. Steps name a slot (a place for one stream at a time); a step on an empty slot that last
/// held a settled stream replays that stream's call late (it must find it closed), and on a slot never used it
/// does nothing, so any shrunk program still runs.
enum HoldStep: Sendable, CustomStringConvertible {
    /// Admits a stream on `slot` (when none is open there) holding its prompt and `slice` output tokens at
    /// `price` pUSD each.
    case admit(slot: Int, promptTokens: Int64, promptCost: Int64, price: Int64, slice: Int64)
    /// Extends the slot's hold by `percent` of the output tokens the status leaves free, or with `pastFree` by
    /// more than is free, which must be refused.
    case extend(slot: Int, percent: Int64, pastFree: Bool)
    /// Delivers `percent` of the output held but not yet delivered, and checkpoints it.
    case deliver(slot: Int, percent: Int64)
    /// Settles with `percent` of the output held, as `status`.
    case settle(slot: Int, percent: Int64, status: UsageStatus)
    /// Drops the store without closing it and reopens the file as owner.
    case crash

    static let slot = Gen.int(in: 0...3)
    static let percent = Gen.int64(in: 0...100)
    static let program = Gen<HoldStep>.frequency(
        (3, zip(slot, Gen.int64(in: 0...200), Gen.int64(in: 0...200_000), Gen.int64(in: 0...2_000), Gen.int64(in: 0...300))
            .map { HoldStep.admit(slot: $0.0, promptTokens: $0.1, promptCost: $0.2, price: $0.3, slice: $0.4) }),
        (4, zip(slot, percent, Gen.bool(0.2)).map { HoldStep.extend(slot: $0.0, percent: $0.1, pastFree: $0.2) }),
        (3, zip(slot, percent).map { HoldStep.deliver(slot: $0, percent: $1) }),
        (2, zip(slot, percent, Gen<UsageStatus>.case).map { HoldStep.settle(slot: $0.0, percent: $0.1, status: $0.2) }),
        (0.3, Gen.always(HoldStep.crash))
    ).array(of: 1...40)

    var description: String {
        switch self {
        case .admit(let slot, let tokens, let cost, let price, let slice):
            "admit#\(slot)(prompt \(tokens) t \(cost) pUSD, \(slice) t at \(price))"
        case .extend(let slot, let percent, let pastFree): "extend#\(slot)(\(pastFree ? "past free" : "\(percent)%"))"
        case .deliver(let slot, let percent): "deliver#\(slot)(\(percent)%)"
        case .settle(let slot, let percent, let status): "settle#\(slot)(\(percent)%, \(status.rawValue))"
        case .crash: "crash"
        }
    }
}

/// One program's ledger, its user, and the model of what the ledger should hold.
struct HoldProgram {
    /// An open stream as the model knows it: prompt, output price, output tokens held and delivered.
    struct OpenStream {
        var reservation: Reservation
        var promptTokens: Int64
        var promptCost: Int64
        var price: Int64
        var outputHeld: Int64
        /// Output checkpointed so far; nil before the first checkpoint (the ledger then has zero usage).
        var delivered: Int64?

        var held: UsageEstimate {
            UsageEstimate(cost: Money(picoUSD: promptCost + outputHeld * price), tokens: promptTokens + outputHeld)
        }
        func usage(output: Int64) -> MeteredUsage {
            MeteredUsage(promptTokens: promptTokens, completionTokens: output, cost: Money(picoUSD: promptCost + output * price))
        }
        var checkpoint: MeteredUsage { delivered.map(usage(output:)) ?? .zero }
    }

    /// What the ledger has for one request: its record, or its open reservation's hold and checkpoint.
    enum Entry: Hashable, Sendable {
        case record(UsageStatus, MeteredUsage)
        case open(held: UsageEstimate, checkpoint: MeteredUsage)
    }

    let limits: HoldLimits
    let dir: TemporaryDirectory
    let path: String
    /// Fixed in June 2025: every record and hold of a program is in one month.
    let clock = TestClock(midJune2025)
    /// Nil only while a crash reopens it.
    var store: SQLiteUsageStore?
    let customer: Customer
    var open: [Int: OpenStream] = [:]
    /// The last settled (or recovered) reservation of each slot, for the late calls.
    var closed: [Int: Reservation] = [:]
    /// The records by request id.
    var records: [String: Entry] = [:]
    var requestsTried = 0

    /// Every checkpoint is written at once (no coalescing), so the model knows what a crash recovers.
    static func configuration(_ clock: TestClock) -> SQLiteUsageStore.Configuration {
        .testing(clock: clock, interval: .zero, stride: 1)
    }

    init(limits: HoldLimits) async throws {
        self.limits = limits
        dir = try TemporaryDirectory(label: "holds")
        path = dir.path("ledger.sqlite")
        let store = try SQLiteUsageStore(path: path, configuration: Self.configuration(clock))
        self.store = store
        customer = try await Customer.add(store, name: "ann", budget: limits.budget)
    }

    // MARK: - The model

    /// The budget status the ledger must report.
    var status: BudgetStatus {
        var settled = UsageEstimate(cost: .zero, tokens: 0)
        for case .record(_, let usage) in records.values {
            settled.cost += usage.cost
            settled.tokens += usage.billedTokens
        }
        var held = UsageEstimate(cost: .zero, tokens: 0)
        for stream in open.values {
            held.cost += max(stream.held.cost, stream.checkpoint.cost)
            held.tokens += max(stream.held.tokens, stream.checkpoint.billedTokens)
        }
        return BudgetStatus(userID: customer.user.id, budget: limits.budget, period: BillingPeriod(containing: clock.now),
                            settledCost: settled.cost, settledTokens: settled.tokens, settledRequests: Int64(records.count),
                            heldCost: held.cost, heldTokens: held.tokens, liveReservations: Int64(open.count))
    }

    /// How the ledger must refuse raising a hold from `held` (zero for a new stream) to `wanted`, or nil to grant
    /// it. The model never delivers past a hold, so the increase is simply `wanted - held`.
    func refusal(raising held: UsageEstimate, to wanted: UsageEstimate) -> LedgerError? {
        if let cap = limits.perRequest, wanted.cost.picoUSD > cap {
            return .requestCapExceeded(cap: Money(picoUSD: cap), requested: wanted.cost)
        }
        let increase = UsageEstimate(cost: wanted.cost - held.cost, tokens: wanted.tokens - held.tokens)
        let status = self.status
        let fitsUSD = limits.monthlyUSD.map { (status.committedCost + increase.cost).picoUSD <= $0 } ?? true
        let fitsTokens = limits.monthlyTokens.map { status.committedTokens + increase.tokens <= $0 } ?? true
        if fitsUSD && fitsTokens { return nil }
        return .budgetExhausted(BudgetShortfall(userName: customer.user.name, period: status.period,
                                                remainingCost: status.remainingCost, remainingTokens: status.remainingTokens,
                                                requested: increase))
    }

    /// The hold an extension asks for, from the status read in its transaction: the current hold plus `percent`
    /// of the output tokens at `price` that the limits leave free, or with `pastFree` more than is free.
    static func plan(_ status: BudgetStatus, held: UsageEstimate, price: Int64, percent: Int64, pastFree: Bool) -> UsageEstimate {
        var free: Int64?
        func bound(_ n: Int64) { free = min(free ?? .max, max(0, n)) }
        if let tokens = status.remainingTokens { bound(tokens) }
        if price > 0, let cost = status.remainingCost { bound(cost.picoUSD / price) }
        if price > 0, let cap = status.budget.maxRequestCost { bound((cap - held.cost).picoUSD / price) }
        let output: Int64 = switch free {
        case nil: percent * 10 // no limit binds: anything fits
        case let free? where pastFree: free + 1 + percent
        case let free?: free * percent / 100
        }
        return UsageEstimate(cost: held.cost + Money(picoUSD: output * price), tokens: held.tokens + output)
    }

    // MARK: - Steps

    /// Runs `step` on the ledger and the model, and checks the ledger's answer against the model's.
    mutating func perform(_ step: HoldStep) async throws {
        switch step {
        case .admit(let slot, let promptTokens, let promptCost, let price, let slice):
            guard open[slot] == nil else { return }
            let id = "r\(requestsTried)"
            requestsTried += 1
            let held = UsageEstimate(cost: Money(picoUSD: promptCost + slice * price), tokens: promptTokens + slice)
            let expected = refusal(raising: UsageEstimate(cost: .zero, tokens: 0), to: held)
            do {
                let reservation = try await store!.reserve(customer.request(id, cost: held.cost, tokens: held.tokens))
                try #require(expected == nil, "admitted \(id), but the model expected \(expected!)")
                open[slot] = OpenStream(reservation: reservation, promptTokens: promptTokens, promptCost: promptCost,
                                        price: price, outputHeld: slice)
            } catch let error as LedgerError {
                try #require(error == expected, "admitting \(id)")
            }

        case .extend(let slot, let percent, let pastFree):
            guard let stream = open[slot] else {
                if let late = closed[slot] {
                    try await expectNotOpen(late) { try await $0.extend(late) { _, held in (held, ()) } }
                }
                return
            }
            let price = stream.price
            let wanted = Self.plan(status, held: stream.held, price: price, percent: percent, pastFree: pastFree)
            let expected = wanted == stream.held ? nil : refusal(raising: stream.held, to: wanted)
            do {
                let (held, seen) = try await store!.extend(stream.reservation) { status, held in
                    (Self.plan(status, held: held, price: price, percent: percent, pastFree: pastFree), status)
                }
                try #require(expected == nil, "extended \(stream.reservation.requestID) to \(held), but the model expected \(expected!)")
                try #require(seen == status, "the plan of \(stream.reservation.requestID) saw another status than the model's")
                try #require(held == wanted)
                open[slot]!.outputHeld += held.tokens - stream.held.tokens
            } catch let error as LedgerError {
                try #require(error == expected, "extending \(stream.reservation.requestID)")
            }

        case .deliver(let slot, let percent):
            guard let stream = open[slot] else {
                if let late = closed[slot], case .record(_, let usage) = records[late.requestID] {
                    // A checkpoint that reaches the ledger after its stream settled.
                    try await expectNotOpen(late) { try await $0.checkpoint(late, usage: usage) }
                }
                return
            }
            let from = stream.delivered ?? 0
            let output = from + (stream.outputHeld - from) * percent / 100
            let outcome = try await store!.checkpoint(stream.reservation, usage: stream.usage(output: output))
            try #require(outcome == .written)
            open[slot]!.delivered = output

        case .settle(let slot, let percent, let status):
            guard let stream = open[slot] else {
                if let late = closed[slot] {
                    // A retried settle returns the first record and changes nothing.
                    let outcome = try await store!.settle(late, usage: .zero, status: .completed)
                    try #require(outcome.wasAlreadySettled)
                    try #require(Entry.record(outcome.record.status, outcome.record.usage) == records[late.requestID])
                }
                return
            }
            let usage = stream.usage(output: stream.outputHeld * percent / 100)
            let outcome = try await store!.settle(stream.reservation, usage: usage, status: status)
            try #require(!outcome.wasAlreadySettled && outcome.record.usage == usage && outcome.record.status == status)
            records[stream.reservation.requestID] = .record(status, usage)
            open[slot] = nil
            closed[slot] = stream.reservation

        case .crash:
            store = nil // no close, no flush: as if the process died
            let reopened = try SQLiteUsageStore(path: path, configuration: Self.configuration(clock))
            store = reopened
            try #require(reopened.recoveredReservations == open.count)
            try #require(try await reopened.remaining(userID: customer.user.id).liveReservations == 0)
            for (slot, stream) in open {
                records[stream.reservation.requestID] = .record(.interrupted, stream.checkpoint)
                closed[slot] = stream.reservation
            }
            open = [:]
        }
    }

    /// Runs a late call on a closed reservation: it must throw `.reservationNotOpen` naming its request.
    func expectNotOpen<T>(_ late: Reservation, _ call: (SQLiteUsageStore) async throws -> T) async throws {
        let store = store!
        let error = try await #require(throws: LedgerError.self, "a late call on \(late.requestID), settled") {
            try await call(store)
        }
        try #require(error == .reservationNotOpen(requestID: late.requestID))
    }

    // MARK: - Checks

    /// Compares the ledger with the model, and checks the bars in the ledger's own numbers.
    func check(after context: String) async throws {
        let store = store!
        let model = status
        let reported = try await store.remaining(userID: customer.user.id)
        try #require(reported == model, "\(context)")
        if let limit = limits.monthlyUSD {
            try #require(reported.settledCost.picoUSD <= limit, "overspent: \(context)")
            try #require(reported.committedCost.picoUSD <= limit, "settled + held past the limit: \(context)")
        }
        if let limit = limits.monthlyTokens {
            try #require(reported.settledTokens <= limit, "overspent tokens: \(context)")
            try #require(reported.committedTokens <= limit, "settled + held tokens past the limit: \(context)")
        }

        let userID = customer.user.id
        let ledger = try await store.pool.read { db in
            var entries: [String: [Entry]] = [:]
            for row in try UsageRecordRow.fetchAll(db) {
                entries[row.requestID, default: []].append(.record(row.status, row.usage))
            }
            for row in try ReservationRow.fetchAll(db) {
                entries[row.requestID, default: []].append(.open(
                    held: UsageEstimate(cost: Money(picoUSD: row.heldPicoUSD), tokens: row.heldTokens), checkpoint: row.checkpoint))
            }
            let holds = try Row.fetchOne(db, sql: """
                SELECT COALESCE(h.live, 0), COALESCE(h.held_pusd, 0), COALESCE(h.held_tokens, 0)
                FROM users u LEFT JOIN user_holds h ON h.user_id = u.id WHERE u.id = ?
                """, arguments: [userID])!
            let sums = try Row.fetchOne(db, sql: """
                SELECT COUNT(*), COALESCE(SUM(MAX(held_pusd, cost_pusd)), 0), COALESCE(SUM(MAX(held_tokens, billed_tokens)), 0)
                FROM reservations WHERE user_id = ?
                """, arguments: [userID])!
            let costliest = try Int64.fetchOne(db, sql: "SELECT MAX(cost_pusd) FROM usage_records")
            return (entries: entries, holds: (0..<3).map { holds[$0] as Int64 }, sums: (0..<3).map { sums[$0] as Int64 },
                    costliest: costliest)
        }
        // Each request tried is in the ledger once (a record or an open reservation), or never was (refused).
        try #require(ledger.entries.values.allSatisfy { $0.count == 1 }, "a request twice: \(context)")
        var expected = records.mapValues { [$0] }
        for stream in open.values {
            expected[stream.reservation.requestID] = [.open(held: stream.held, checkpoint: stream.checkpoint)]
        }
        try #require(ledger.entries == expected, "\(context)")
        try #require(ledger.holds == ledger.sums, "user_holds \(ledger.holds) ≠ the reservations' \(ledger.sums): \(context)")
        if let cap = limits.perRequest {
            try #require((ledger.costliest ?? 0) <= cap, "a record past the per-request cap: \(context)")
            try #require(open.values.allSatisfy { $0.held.cost.picoUSD <= cap })
        }
    }

    /// Settles what is still open, reopens once more (nothing to recover), and checks that no hold is left.
    mutating func windDown() async throws {
        for slot in open.keys.sorted() {
            try await perform(.settle(slot: slot, percent: 100, status: .completed))
            try await check(after: "winding down, settled #\(slot)")
        }
        try await perform(.crash)
        try await check(after: "the last reopen")
        let left = try store!.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT (SELECT COUNT(*) FROM reservations), COALESCE(SUM(live), 0), COALESCE(SUM(held_pusd), 0),
                       COALESCE(SUM(held_tokens), 0) FROM user_holds
                """)!
        }
        try #require((0..<4).map { left[$0] as Int64 } == [0, 0, 0, 0], "holds left after the last settle")
        try await store!.close()
        store = nil
        try assertBooksBalance(path: path)
    }
}
