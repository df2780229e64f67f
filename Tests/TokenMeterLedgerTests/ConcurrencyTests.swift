import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Concurrent reservations (both ledgers)")
struct ConcurrencyTests {
    let clock = TestClock(midJune2025)

    @Test("50 concurrent reservations on $1.00 at $0.03 each: exactly 33 pass, 17 are refused, nothing is held twice", arguments: LedgerBackend.allCases)
    func exactAdmission(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1.00")))
        let results = await withTaskGroup(of: Result<Reservation, any Error>.self) { group in
            for i in 0..<50 {
                group.addTask { await Result(catching: { try await store.reserve(c.request("r\(i)", cost: usd("0.03"))) }) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let passed = results.compactMap { try? $0.get() }
        #expect(passed.count == 33)
        for case .failure(let error) in results {
            guard case LedgerError.budgetExhausted(let s) = error else { Issue.record("unexpected \(error)"); continue }
            #expect(s.remainingCost == usd("0.01"))
        }
        let status = try await store.remaining(userID: c.user.id)
        #expect(status.heldCost == usd("0.99"))
        #expect(status.liveReservations == 33)
        }
    }

    @Test("50 concurrent planned reservations each hold what is left after the ones before: never more than the budget", arguments: LedgerBackend.allCases)
    func plannedReservationsSeeEachOther(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        struct NothingLeft: Error {}
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyTokenLimit: 1_000))
        // Each reservation takes half of what is left (at least 1 token), the way the gateway sizes its hold
        // from the status read in the reservation's own transaction (batched with the others).
        let results = await withTaskGroup(of: Result<Int64, any Error>.self) { group in
            for i in 0..<50 {
                group.addTask {
                    await Result(catching: {
                        try await store.reserve(c.request("p\(i)", cost: .zero)) { status in
                            let left = status.remainingTokens ?? 0
                            guard left > 0 else { throw NothingLeft() }
                            let take = max(1, left / 2)
                            return (UsageEstimate(cost: .zero, tokens: take), take)
                        }.plan
                    })
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let held = results.compactMap { try? $0.get() }
        #expect(held.reduce(0, +) == 1_000)  // halving 1000 down to single tokens spends it all, exactly
        for case .failure(let error) in results { #expect(error is NothingLeft) }  // rethrown unchanged
        let status = try await store.remaining(userID: c.user.id)
        #expect(status.heldTokens == 1_000)
        #expect(status.liveReservations == held.count)
        }
    }

    @Test("50 concurrent streams with checkpoints: settled spend ≤ budget + one delta per stream, books balance", arguments: LedgerBackend.allCases)
    func streamsStayInBudget(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, interval: .milliseconds(20), stride: 8) { ledger in
        let store = ledger.store
        let budget = usd("0.01")
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: budget))
        let delta = Money(picoUSD: 4 * 2_000_000) // one delta: 4 tokens at $2 per 1M
        let price = Money(picoUSD: 2_000_000)

        // Each stream reserves what the remaining budget allows for up to 200 tokens (as the server clamps
        // max_tokens), streams 4-token deltas until the next would cross its hold, and in one stream in three
        // the "provider" bills one delta more than was held (the overshoot the bar allows).
        let settled = try await withThrowingTaskGroup(of: (Money, Money)?.self) { group in
            for i in 0..<50 {
                group.addTask {
                    let left = try await store.remaining(userID: c.user.id).remainingCost ?? .zero
                    let allowance = min(Int64(200), left.picoUSD / price.picoUSD)
                    guard allowance >= 4 else { return nil }
                    let reservation: Reservation
                    do {
                        reservation = try await store.reserve(c.request("s\(i)", cost: price.times(Int(allowance))!, tokens: allowance))
                    } catch LedgerError.budgetExhausted {
                        return nil // another stream took the money between our look and our reserve
                    }
                    var tokens: Int64 = 0
                    while tokens + 4 <= allowance {
                        tokens += 4
                        try await store.checkpoint(reservation, usage: MeteredUsage(promptTokens: 0, completionTokens: tokens,
                                                                                    cost: price.times(Int(tokens))!))
                        await Task.yield()
                    }
                    let billed = i % 3 == 0 ? tokens + 4 : tokens
                    let outcome = try await store.settle(reservation, usage: MeteredUsage(
                        promptTokens: 0, completionTokens: billed, cost: price.times(Int(billed))!), status: .completed)
                    return (outcome.record.usage.cost, reservation.held.cost)
                }
            }
            return try await group.reduce(into: [(Money, Money)]()) { if let x = $1 { $0.append(x) } }
        }
        let spent = settled.reduce(Money.zero) { $0 + $1.0 }
        
        #expect(!settled.isEmpty)
        #expect(spent <= budget + delta * settled.count, "spent \(spent) with \(settled.count) streams")
        let status = try await store.remaining(userID: c.user.id)
        #expect(status.settledCost == spent)
        #expect(status.liveReservations == 0)
        }
    }

    @Test("two stores on one ledger (SQLite: server and admin process; PostgreSQL: two gateways) cannot both pass on the same money",
          arguments: LedgerBackend.allCases)
    func twoConnections(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let a = ledger.store
        let b = try await ledger.openSecond()
        let c = try await Customer.add(a, name: "ann", budget: Budget(monthlyLimit: usd("0.50")))
        let passed = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<40 {
                let store = i.isMultiple(of: 2) ? a : b
                group.addTask { (try? await store.reserve(c.request("r\(i)", cost: usd("0.05")))) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(passed == 10)
        #expect(try await b.remaining(userID: c.user.id).heldCost == usd("0.50"))
        try await b.close()
        }
    }
}

extension Money {
    static func * (m: Money, n: Int) -> Money { m.times(n)! }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
