import Foundation
import GRDB
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

/// `extend`: an open reservation's hold is raised in one transaction with the check that the limits have room
/// for the increase, the way the gateway grows a stream's hold ahead of the tokens it delivers.
@Suite("Hold extension")
struct HoldExtensionTests {
    let dir: TemporaryDirectory, path: String, clock: TestClock, store: SQLiteUsageStore

    init() throws { (dir, path, clock, store) = try ownedTestLedger() }

    /// Output price of the streams in these tests: $0.001 per token.
    static let price = Money(picoUSD: 1_000_000_000)

    /// Raises `r`'s hold to a fixed estimate (a plan that does not look at the status).
    func extend(_ r: Reservation, to cost: Money, _ tokens: Int64) async throws -> UsageEstimate {
        try await store.extend(r) { _, _ in (UsageEstimate(cost: cost, tokens: tokens), ()) }.held
    }

    /// Everything an extension could change: the reservations, `user_holds`, the records and the rollup.
    func books() throws -> [[Row]] {
        try store.pool.read { db in
            try ["reservations ORDER BY id", "user_holds ORDER BY user_id", "usage_records ORDER BY id",
                 "monthly_usage ORDER BY 1, 2"].map { try Row.fetchAll(db, sql: "SELECT * FROM \($0)") }
        }
    }

    /// `user_holds` for `userID` and the same sums over its reservations, both read in SQL.
    func holds(_ userID: Int64) async throws -> (table: [Int64], recomputed: [Int64]) {
        try await store.pool.read { db in
            let table = try Row.fetchOne(db, sql: """
                SELECT COALESCE(h.live, 0), COALESCE(h.held_pusd, 0), COALESCE(h.held_tokens, 0)
                FROM users u LEFT JOIN user_holds h ON h.user_id = u.id WHERE u.id = ?
                """, arguments: [userID])!
            let sums = try Row.fetchOne(db, sql: """
                SELECT COUNT(*), COALESCE(SUM(MAX(held_pusd, cost_pusd)), 0), COALESCE(SUM(MAX(held_tokens, billed_tokens)), 0)
                FROM reservations WHERE user_id = ?
                """, arguments: [userID])!
            return ((0..<3).map { table[$0] }, (0..<3).map { sums[$0] })
        }
    }

    @Test("extend raises the hold to the plan's estimate: the plan sees the status and the hold, the status shows the bigger hold")
    func raisesTheHold() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1"), monthlyTokenLimit: 1_000))
        let r = try await store.reserve(ann.request("r", cost: usd("0.10"), tokens: 100))
        let (held, seen) = try await store.extend(r) { status, held in
            (UsageEstimate(cost: usd("0.25"), tokens: 250), (status, held))
        }
        #expect(held == UsageEstimate(cost: usd("0.25"), tokens: 250))
        #expect(seen.1 == UsageEstimate(cost: usd("0.10"), tokens: 100))
        #expect(seen.0.heldCost == usd("0.10") && seen.0.heldTokens == 100 && seen.0.liveReservations == 1)

        let status = try await store.remaining(userID: ann.user.id)
        #expect(status.heldCost == usd("0.25"))
        #expect(status.heldTokens == 250)
        #expect(status.remainingCost == usd("0.75"))
        #expect(status.remainingTokens == 750)
        #expect(try await holds(ann.user.id) == (table: [1, usd("0.25").picoUSD, 250], recomputed: [1, usd("0.25").picoUSD, 250]))

        // Asking for the hold in force changes nothing and returns it.
        let before = try books()
        #expect(try await extend(r, to: usd("0.25"), 250) == held)
        #expect(try books() == before)

        // The settle releases the bigger hold, not the first one.
        _ = try await store.settle(r, usage: localUsage(prompt: 100, completion: 100), status: .completed)
        #expect(try await holds(ann.user.id) == (table: [0, 0, 0], recomputed: [0, 0, 0]))
        #expect(try await store.remaining(userID: ann.user.id).settledCost == Money(picoUSD: 200_000))
        try assertBooksBalance(path: path)
    }

    @Test("a checkpoint above the hold counts: the increase checked is what max(hold, checkpoint) grows by")
    func increaseOverCheckpoint() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1"), monthlyTokenLimit: 100))
        let cent = Int64(10_000_000_000) // $0.01 per token, in pUSD
        let r = try await store.reserve(ann.request("r", cost: usd("0.10"), tokens: 10))
        // The provider billed past the hold: 40 tokens at $0.01 = $0.40 count against the month.
        try await store.checkpoint(r, usage: localUsage(prompt: 0, completion: 40, pricePico: cent))
        let other = try await store.reserve(ann.request("other", cost: usd("0.60"), tokens: 60))
        #expect(try await store.remaining(userID: ann.user.id).remainingCost == .zero) // the month is full

        // Raising the hold to what the checkpoint already counts costs the month nothing; a pico more does not fit.
        #expect(try await extend(r, to: usd("0.40"), 40) == UsageEstimate(cost: usd("0.40"), tokens: 40))
        await #expect(throws: LedgerError.self) { try await extend(r, to: usd("0.400000000001"), 40) }
        await #expect(throws: LedgerError.self) { try await extend(r, to: usd("0.40"), 41) }
        _ = try await store.settle(other, usage: .zero, status: .upstreamError)

        // A hold of $0.05 with a checkpoint at $0.20, raised to $0.60: the month pays $0.40 more, exactly what is free.
        let r2 = try await store.reserve(ann.request("r2", cost: usd("0.05"), tokens: 5))
        try await store.checkpoint(r2, usage: localUsage(prompt: 0, completion: 20, pricePico: cent))
        #expect(try await extend(r2, to: usd("0.60"), 60) == UsageEstimate(cost: usd("0.60"), tokens: 60))
        let status = try await store.remaining(userID: ann.user.id)
        #expect(status.committedCost == usd("1.00"))
        #expect(status.committedTokens == 100)
        _ = try await store.settle(r, usage: localUsage(prompt: 0, completion: 40, pricePico: cent), status: .completed)
        _ = try await store.settle(r2, usage: localUsage(prompt: 0, completion: 60, pricePico: cent), status: .completed)
        try assertBooksBalance(path: path)
    }

    /// The limit a test runs against, with the others off.
    enum Limit: String, CaseIterable, Sendable {
        case monthlyUSD, monthlyTokens, perRequest

        var budget: Budget {
            switch self {
            case .monthlyUSD: Budget(monthlyLimit: usd("1.00"))
            case .monthlyTokens: Budget(monthlyTokenLimit: 1_000)
            case .perRequest: Budget(maxRequestCost: usd("0.50"))
            }
        }
    }

    /// A month for `limit`: $0.30 and 300 tokens settled, another stream holding $0.20 and 200 tokens, and the
    /// stream under test holding $0.10 and 100 tokens at `price`. Under each limit $0.40 or 400 tokens are free.
    func month(under limit: Limit) async throws -> (Customer, stream: Reservation, other: Reservation) {
        let ann = try await Customer.add(store, name: "ann", budget: limit.budget)
        let done = try await store.reserve(ann.request("done", cost: usd("0.30"), tokens: 300))
        _ = try await store.settle(done, usage: localUsage(prompt: 100, completion: 200, pricePico: Self.price.picoUSD),
                                   status: .completed)
        let other = try await store.reserve(ann.request("other", cost: usd("0.20"), tokens: 200))
        let stream = try await store.reserve(ann.request("stream", cost: usd("0.10"), tokens: 100))
        return (ann, stream, other)
    }

    /// Output tokens at `price` that the status leaves free for a stream holding `held`, the way the gateway's
    /// hold growth sizes an extension; nil when no limit binds.
    static func freeTokens(_ status: BudgetStatus, held: UsageEstimate, price: Money = price) -> Int64? {
        var free: Int64?
        func bound(_ n: Int64) { free = min(free ?? .max, max(0, n)) }
        if let tokens = status.remainingTokens { bound(tokens) }
        if let cost = status.remainingCost { bound(cost.picoUSD / price.picoUSD) }
        if let cap = status.budget.maxRequestCost { bound((cap - held.cost).picoUSD / price.picoUSD) }
        return free
    }

    @Test("a plan taking half of what is free, again and again, ends exactly at the limit and never past it",
          arguments: Limit.allCases)
    func partialPlansStopAtTheLimit(_ limit: Limit) async throws {
        let (ann, stream, other) = try await month(under: limit)
        var steps = 0
        for _ in 1...20 { // 11 when correct; bounded so a store that grants without raising the hold fails, not hangs
            let (held, taken) = try await store.extend(stream) { status, held in
                let free = try #require(Self.freeTokens(status, held: held))
                let take = free == 0 ? 0 : max(1, free / 2)
                return (UsageEstimate(cost: held.cost + Self.price * Int(take), tokens: held.tokens + take), take)
            }
            let status = try await store.remaining(userID: ann.user.id)
            if let cap = status.budget.maxRequestCost { #expect(held.cost <= cap) }
            if let l = status.budget.monthlyLimit { #expect(status.committedCost <= l) }
            if let l = status.budget.monthlyTokenLimit { #expect(status.committedTokens <= l) }
            steps += 1
            if taken == 0 { break }
        }
        #expect(steps == 11) // 200, 100, 50, 25, 12, 6, 3, 2, 1 and 1 of the 400 free tokens, then nothing
        let status = try await store.remaining(userID: ann.user.id)
        switch limit {
        case .monthlyUSD: #expect(status.committedCost == usd("1.00"))
        case .monthlyTokens: #expect(status.committedTokens == 1_000)
        case .perRequest: #expect(status.heldCost == usd("0.50") + usd("0.20"))
        }
        #expect(try await holds(ann.user.id).table == holds(ann.user.id).recomputed)

        _ = try await store.settle(stream, usage: localUsage(prompt: 100, completion: 400, pricePico: Self.price.picoUSD),
                                   status: .completed)
        _ = try await store.settle(other, usage: .zero, status: .clientCancelled)
        #expect(try await holds(ann.user.id).table == [0, 0, 0])
        try assertBooksBalance(path: path)
    }

    @Test("an extension one unit past a limit is refused with what is left, and changes nothing", arguments: Limit.allCases)
    func pastTheLimit(_ limit: Limit) async throws {
        let (ann, stream, other) = try await month(under: limit)
        let before = try books()
        let june = BillingPeriod(containing: midJune2025)
        switch limit {
        case .monthlyUSD:
            await #expect(throws: LedgerError.budgetExhausted(BudgetShortfall(
                userName: "ann", period: june, remainingCost: usd("0.40"), remainingTokens: nil,
                requested: UsageEstimate(cost: usd("0.400000000001"), tokens: 0)))) {
                try await extend(stream, to: usd("0.500000000001"), 100)
            }
        case .monthlyTokens:
            await #expect(throws: LedgerError.budgetExhausted(BudgetShortfall(
                userName: "ann", period: june, remainingCost: nil, remainingTokens: 400,
                requested: UsageEstimate(cost: .zero, tokens: 401)))) {
                try await extend(stream, to: usd("0.10"), 501)
            }
        case .perRequest:
            await #expect(throws: LedgerError.requestCapExceeded(cap: usd("0.50"), requested: usd("0.500000000001"))) {
                try await extend(stream, to: usd("0.500000000001"), 100)
            }
        }
        #expect(try books() == before)
        // The whole of what is free still fits.
        #expect(try await extend(stream, to: usd("0.50"), 500) == UsageEstimate(cost: usd("0.50"), tokens: 500))
        _ = try await store.settle(stream, usage: .zero, status: .upstreamError)
        _ = try await store.settle(other, usage: .zero, status: .upstreamError)
        _ = ann
        try assertBooksBalance(path: path)
    }

    @Test("a smaller hold, in cost or in tokens, is refused with invalidUsage and changes nothing")
    func shrinking() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(ann.request("r", cost: usd("0.10"), tokens: 100))
        let before = try books()
        for (cost, tokens) in [(usd("0.099999999999"), Int64(100)), (usd("0.10"), 99), (usd("0.50"), 99), (.zero, 0)] {
            do {
                _ = try await extend(r, to: cost, tokens)
                Issue.record("a hold shrank to \(cost), \(tokens) tokens")
            } catch LedgerError.invalidUsage(let reason) {
                #expect(reason.contains("never shrinks"))
            }
        }
        #expect(try books() == before)
        _ = try await store.settle(r, usage: .zero, status: .completed)
        _ = ann
    }

    @Test("extending a settled reservation throws reservationNotOpen, also when a new reservation took its id")
    func settledIsNotOpen() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(ann.request("first", cost: usd("0.10"), tokens: 100))
        _ = try await store.settle(r, usage: localUsage(prompt: 1, completion: 1), status: .completed)
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "first")) { try await extend(r, to: usd("1"), 1_000) }

        // SQLite hands the deleted largest rowid to the next insert: the new reservation has the same id.
        let next = try await store.reserve(ann.request("next", cost: usd("0.20"), tokens: 200))
        #expect(next.id == r.id)
        let before = try books()
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "first")) { try await extend(r, to: usd("1"), 1_000) }
        #expect(try books() == before)
        _ = try await store.settle(next, usage: .zero, status: .completed)
        try assertBooksBalance(path: path)
    }

    @Test("extending a reservation a crash left open throws reservationNotOpen after the reopen settled it")
    func interruptedIsNotOpen() async throws {
        let crashPath = dir.path("crash.sqlite")
        var owner: SQLiteUsageStore? = try SQLiteUsageStore(path: crashPath, configuration: .testing(clock: clock))
        let ann = try await Customer.add(owner!, name: "ann", budget: .unlimited)
        let r = try await owner!.reserve(ann.request("r", cost: usd("0.10"), tokens: 100))
        owner = nil
        let reopened = try SQLiteUsageStore(path: crashPath, configuration: .testing(clock: clock))
        #expect(reopened.recoveredReservations == 1)
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "r")) {
            try await reopened.extend(r) { _, held in (UsageEstimate(cost: held.cost * 2, tokens: held.tokens), ()) }
        }
        try assertBooksBalance(path: crashPath)
    }

    @Test("extending after the user was disabled throws userDisabled and changes nothing; enabled again, it grants")
    func disabledUser() async throws {
        let ann = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1")))
        let r = try await store.reserve(ann.request("r", cost: usd("0.10"), tokens: 100))
        _ = try await store.setStatus(userID: ann.user.id, .disabled)
        let before = try books()
        await #expect(throws: LedgerError.userDisabled("ann")) { try await extend(r, to: usd("0.20"), 200) }
        #expect(try books() == before)
        _ = try await store.setStatus(userID: ann.user.id, .active)
        #expect(try await extend(r, to: usd("0.20"), 200) == UsageEstimate(cost: usd("0.20"), tokens: 200))
        _ = try await store.settle(r, usage: .zero, status: .completed)
    }

    @Test("an error thrown by the plan is rethrown unchanged (its own type, or a LedgerError) and changes nothing")
    func planningErrorRethrown() async throws {
        struct NoRoomForTheSlice: Error, Equatable { let free: Int64 }
        let ann = try await Customer.add(store, name: "ann", budget: Budget(monthlyTokenLimit: 150))
        let r = try await store.reserve(ann.request("r", cost: usd("0.10"), tokens: 100))
        let before = try books()
        await #expect(throws: NoRoomForTheSlice(free: 50)) {
            try await store.extend(r) { (status, _) -> (UsageEstimate, Void) in
                throw NoRoomForTheSlice(free: status.remainingTokens ?? -1)
            }
        }
        await #expect(throws: LedgerError.invalidUsage("from the plan")) {
            try await store.extend(r) { (_, _) -> (UsageEstimate, Void) in throw LedgerError.invalidUsage("from the plan") }
        }
        #expect(try books() == before)
        _ = try await store.settle(r, usage: .zero, status: .completed)
    }

    @Test("50 concurrent extensions of 10 reservations by random increments, 2 settles among them: settled + held never passes a limit and no increase is lost")
    func concurrentExtensions() async throws {
        let budget = Budget(monthlyLimit: usd("1.00"), monthlyTokenLimit: 10_000, maxRequestCost: usd("0.20"))
        let ann = try await Customer.add(store, name: "ann", budget: budget)
        var streams: [Reservation] = []
        for i in 0..<10 { streams.append(try await store.reserve(ann.request("s\(i)", cost: usd("0.01"), tokens: 50))) }
        // Asked in all: about $2 and 15,000 tokens, twice what is free, so each limit refuses some.
        var random = SeededGenerator(seed: 0x5EED_2025)
        let asks = (0..<50).map { _ in
            (stream: Int.random(in: 0..<10, using: &random),
             increase: UsageEstimate(cost: Money(picoUSD: .random(in: 1...80_000_000_000, using: &random)),
                                     tokens: .random(in: 0...600, using: &random)))
        }
        enum Outcome: Sendable { case granted(Int, UsageEstimate), refused(Int, any Error), watched([BudgetStatus]) }
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            for (stream, increase) in asks {
                let r = streams[stream]
                group.addTask {
                    do {
                        _ = try await store.extend(r) { _, held in
                            (UsageEstimate(cost: held.cost + increase.cost, tokens: held.tokens + increase.tokens), ())
                        }
                        return .granted(stream, increase)
                    } catch { return .refused(stream, error) }
                }
            }
            for stream in 0..<2 {
                let r = streams[stream]
                group.addTask {
                    do { _ = try await store.settle(r, usage: localUsage(prompt: 10, completion: 30), status: .completed) }
                    catch { return .refused(stream, error) }
                    return .watched([])
                }
            }
            // A reader watching the month while the extensions run.
            group.addTask {
                var seen: [BudgetStatus] = []
                for _ in 0..<30 {
                    if let status = try? await store.remaining(userID: ann.user.id) { seen.append(status) }
                    await Task.yield()
                }
                return .watched(seen)
            }
            return await group.reduce(into: []) { $0.append($1) }
        }

        var granted = [UsageEstimate](repeating: UsageEstimate(cost: .zero, tokens: 0), count: 10)
        var refusals = 0
        for outcome in outcomes {
            switch outcome {
            case .granted(let stream, let increase):
                granted[stream].cost += increase.cost
                granted[stream].tokens += increase.tokens
            case .refused(let stream, let error):
                refusals += 1
                switch error {
                case LedgerError.budgetExhausted, LedgerError.requestCapExceeded: break
                case LedgerError.reservationNotOpen: #expect(stream < 2, "only the settled streams close")
                default: Issue.record("unexpected \(error)")
                }
            case .watched(let seen):
                for status in seen {
                    #expect(status.committedCost <= budget.monthlyLimit!)
                    #expect(status.committedTokens <= budget.monthlyTokenLimit!)
                }
            }
        }
        #expect(refusals > 0)

        // Each open stream holds its first estimate plus exactly the increases granted to it.
        let rows = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT request_id, held_pusd, held_tokens FROM reservations ORDER BY id")
        }
        #expect(rows.count == 8)
        for row in rows {
            let stream = Int((row["request_id"] as String).dropFirst())!
            #expect(row["held_pusd"] == usd("0.01").picoUSD + granted[stream].cost.picoUSD, "s\(stream)")
            #expect(row["held_tokens"] == 50 + granted[stream].tokens, "s\(stream)")
            #expect(row["held_pusd"] <= usd("0.20").picoUSD)
        }
        let status = try await store.remaining(userID: ann.user.id)
        #expect(status.committedCost <= budget.monthlyLimit!)
        #expect(status.committedTokens <= budget.monthlyTokenLimit!)
        let committed = try store.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT (SELECT COALESCE(SUM(cost_pusd), 0) FROM usage_records)
                         + (SELECT COALESCE(SUM(MAX(held_pusd, cost_pusd)), 0) FROM reservations) AS pusd,
                       (SELECT COALESCE(SUM(billed_tokens), 0) FROM usage_records)
                         + (SELECT COALESCE(SUM(MAX(held_tokens, billed_tokens)), 0) FROM reservations) AS tokens
                """)!
        }
        #expect(committed["pusd"] == status.committedCost.picoUSD)
        #expect(committed["tokens"] == status.committedTokens)
        #expect(try await holds(ann.user.id).table == holds(ann.user.id).recomputed)

        // Settle the rest for half of what each holds: the holds go back to zero.
        for r in streams[2...] {
            let held = try await store.extend(r) { _, held in (held, held) }.plan
            _ = try await store.settle(r, usage: MeteredUsage(promptTokens: 0, completionTokens: held.tokens / 2,
                                                              cost: Money(picoUSD: held.cost.picoUSD / 2)), status: .completed)
        }
        #expect(try await holds(ann.user.id) == (table: [0, 0, 0], recomputed: [0, 0, 0]))
        let settled = try await store.remaining(userID: ann.user.id)
        #expect(settled.settledCost <= budget.monthlyLimit!)
        #expect(settled.settledTokens <= budget.monthlyTokenLimit!)
        try assertBooksBalance(path: path)
    }
}
