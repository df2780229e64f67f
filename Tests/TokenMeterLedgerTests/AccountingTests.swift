import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Reserve, checkpoint, settle, remaining (both ledgers)")
struct AccountingTests {
    let clock = TestClock(midJune2025)

    @Test("a reservation holds its estimate; the next one sees only what is left and gets budgetExhausted with the remainder", arguments: LedgerBackend.allCases)
    func holdsMoney(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1")))
        let r1 = try await store.reserve(c.request("r1", cost: usd("0.70")))
        #expect(r1.held.cost == usd("0.70"))
        var status = try await store.remaining(userID: c.user.id)
        #expect(status.heldCost == usd("0.70"))
        #expect(status.remainingCost == usd("0.30"))
        #expect(status.liveReservations == 1)

        do {
            _ = try await store.reserve(c.request("r2", cost: usd("0.300000000001")))
            Issue.record("reserved past the budget")
        } catch LedgerError.budgetExhausted(let s) {
            #expect(s.remainingCost == usd("0.30"))
            #expect(s.userName == "ann")
            #expect(s.period == BillingPeriod(year: 2025, month: 6))
            #expect(s.description.contains("$0.30 left in 2025-06"))
        }
        let r3 = try await store.reserve(c.request("r3", cost: usd("0.30"))) // exactly the rest fits
        status = try await store.remaining(userID: c.user.id)
        #expect(status.remainingCost == .zero)

        // Settling for less than held releases the difference.
        _ = try await store.settle(r1, usage: localUsage(prompt: 100, completion: 100, pricePico: 1_000_000_000),
                                   status: .completed)
        status = try await store.remaining(userID: c.user.id)
        #expect(status.settledCost == usd("0.2"))
        #expect(status.heldCost == usd("0.3"))
        #expect(status.remainingCost == usd("0.5"))
        _ = try await store.settle(r3, usage: .zero, status: .upstreamError)
        try await ledger.assertBooksBalance()
        }
    }

    @Test("monthly token limit and per-request cap are enforced; unlimited users always pass", arguments: LedgerBackend.allCases)
    func tokenLimitAndCap(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann",
                                       budget: Budget(monthlyTokenLimit: 1_000, maxRequestCost: usd("0.10")))
        _ = try await store.reserve(c.request("a", cost: usd("0.10"), tokens: 600))
        await #expect(throws: LedgerError.requestCapExceeded(cap: usd("0.10"), requested: usd("0.100000000001"))) {
            try await store.reserve(c.request("b", cost: usd("0.100000000001"), tokens: 1))
        }
        do {
            _ = try await store.reserve(c.request("c", cost: .zero, tokens: 401))
            Issue.record("reserved past the token limit")
        } catch LedgerError.budgetExhausted(let s) {
            #expect(s.remainingTokens == 400)
            #expect(s.remainingCost == nil)
        }
        _ = try await store.reserve(c.request("d", cost: .zero, tokens: 400))

        let free = try await Customer.add(store, name: "free", budget: .unlimited)
        _ = try await store.reserve(free.request("f", cost: Money(dollars: 1_000_000), tokens: 1 << 40))
        #expect(try await store.remaining(userID: free.user.id).remainingCost == nil)
        }
    }

    @Test("a request id is used once: a second reserve with it fails, before and after settle", arguments: LedgerBackend.allCases)
    func duplicateRequestID(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("same", cost: usd("0.01")))
        await #expect(throws: LedgerError.duplicateRequestID("same")) { try await store.reserve(c.request("same", cost: .zero)) }
        _ = try await store.settle(r, usage: .zero, status: .completed)
        await #expect(throws: LedgerError.duplicateRequestID("same")) { try await store.reserve(c.request("same", cost: .zero)) }
        }
    }

    @Test("settle writes one record with every field and is idempotent: a retry returns it and counts nothing twice", arguments: LedgerBackend.allCases)
    func settleIdempotent(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("5")))
        let r = try await store.reserve(c.request("req-1", cost: usd("0.5"), tokens: 2_000))
        clock.advance(seconds: 3.25)
        let usage = MeteredUsage(promptTokens: 120, completionTokens: 80,
                                 provider: ProviderUsage(promptTokens: 121, completionTokens: 82, cachedTokens: 64, reasoningTokens: 10),
                                 billedBy: .provider, cost: Money(picoUSD: 203 * 150_000))
        let first = try await store.settle(r, usage: usage, status: .cutByBudget)
        #expect(!first.wasAlreadySettled)
        #expect(first.record.requestID == "req-1")
        #expect(first.record.usage == usage)
        #expect(first.record.usage.billedTokens == 203)
        #expect(first.record.status == .cutByBudget)
        #expect(first.record.model == "gpt-4o-mini")
        #expect(first.record.upstream == "openai")
        #expect(first.record.startedAt == midJune2025)
        #expect(first.record.endedAt == midJune2025 + 3.25)

        let retry = try await store.settle(r, usage: localUsage(prompt: 1, completion: 1), status: .completed)
        #expect(retry.wasAlreadySettled)
        #expect(retry.record == first.record)
        let status = try await store.remaining(userID: c.user.id)
        #expect(status.settledCost == Money(picoUSD: 203 * 150_000))
        #expect(status.settledRequests == 1)
        #expect(status.settledTokens == 203)
        #expect(status.liveReservations == 0)
        try await ledger.assertBooksBalance()
        }
    }

    @Test("concurrent retries of one settle write exactly one record", arguments: LedgerBackend.allCases)
    func concurrentSettles(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("req", cost: usd("0.5")))
        let outcomes = try await withThrowingTaskGroup(of: SettleOutcome.self) { group in
            for _ in 0..<10 { group.addTask { try await store.settle(r, usage: localUsage(prompt: 5, completion: 5), status: .completed) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { !$0.wasAlreadySettled }.count == 1)
        #expect(Set(outcomes.map(\.record)).count == 1)
        #expect(try await store.remaining(userID: c.user.id).settledRequests == 1)
        }
    }

    @Test("settle completes in a cancelled task (the client went away), and the record says so", arguments: LedgerBackend.allCases)
    func settleIgnoresCancellation(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("req", cost: usd("0.5")))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            #expect(Task.isCancelled)
            await #expect(throws: CancellationError.self) {
                try await store.checkpoint(r, usage: localUsage(prompt: 5, completion: 1))
            }
            return try await store.settle(r, usage: localUsage(prompt: 5, completion: 3), status: .clientCancelled)
        }
        let outcome = try await task.value
        #expect(outcome.record.status == .clientCancelled)
        #expect(outcome.record.usage.completionTokens == 3)
        }
    }

    @Test("settling or checkpointing a reservation that is not open fails with reservationNotOpen", arguments: LedgerBackend.allCases)
    func notOpen(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("req", cost: usd("0.5")))
        var ghost = r
        ghost.id += 1000
        ghost.requestID = "ghost"
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "ghost")) {
            try await store.settle(ghost, usage: .zero, status: .completed)
        }
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "ghost")) {
            try await store.checkpoint(ghost, usage: .zero)
        }
        _ = try await store.settle(r, usage: .zero, status: .completed)
        await #expect(throws: LedgerError.reservationNotOpen(requestID: "req")) {
            try await store.checkpoint(r, usage: localUsage(prompt: 1, completion: 1000))
        }
        }
    }

    @Test("invalid usage is refused before touching the database", arguments: LedgerBackend.allCases)
    func invalidUsage(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("req", cost: usd("0.5")))
        let providerWithoutCounts = MeteredUsage(promptTokens: 1, completionTokens: 1, provider: nil, billedBy: .provider, cost: .zero)
        await #expect(throws: LedgerError.self) { try await store.settle(r, usage: providerWithoutCounts, status: .completed) }
        await #expect(throws: LedgerError.self) {
            try await store.settle(r, usage: MeteredUsage(promptTokens: -1, completionTokens: 0, cost: .zero), status: .completed)
        }
        await #expect(throws: LedgerError.self) { try await store.reserve(c.request("neg", cost: usd("-0.01"))) }
        await #expect(throws: LedgerError.self) { try await store.reserve(c.request("", cost: .zero)) }
        await #expect(throws: LedgerError.self) { try await store.reserve(c.request(String(repeating: "x", count: 201), cost: .zero)) }
        #expect(try await store.remaining(userID: c.user.id).liveReservations == 1)
        }
    }

    @Test("a checkpoint beyond the hold counts at its own value until settle", arguments: LedgerBackend.allCases)
    func checkpointBeyondHold(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1")))
        let r = try await store.reserve(c.request("req", cost: usd("0.1"), tokens: 100))
        // Stride 256 by default: 300 completion tokens is due at once.
        let u = localUsage(prompt: 0, completion: 300, pricePico: 1_000_000_000) // $0.30
        #expect(try await store.checkpoint(r, usage: u) == .written)
        let status = try await store.remaining(userID: c.user.id)
        #expect(status.heldCost == usd("0.3"))
        #expect(status.heldTokens == 300)
        }
    }

    @Test("usage counts in the UTC month it ended; a new month starts from zero; summaries are per model", arguments: LedgerBackend.allCases)
    func monthBoundary(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1")))
        clock.set(Date(timeIntervalSince1970: 1_751_327_999)) // 2025-06-30 23:59:59 UTC
        let june = try await store.reserve(c.request("june", cost: usd("0.9")))
        _ = try await store.settle(june, usage: localUsage(prompt: 0, completion: 9, pricePico: 100_000_000_000), status: .completed)
        let late = try await store.reserve(c.request("late", cost: usd("0.1"), model: "gpt-4o"))
        clock.advance(seconds: 2) // 2025-07-01 00:00:01 UTC
        var status = try await store.remaining(userID: c.user.id)
        #expect(status.period == BillingPeriod(year: 2025, month: 7))
        #expect(status.settledCost == .zero)
        #expect(status.heldCost == usd("0.1")) // the live reservation counts in the current month
        _ = try await store.settle(late, usage: localUsage(prompt: 0, completion: 1, pricePico: 50_000_000_000), status: .completed)
        status = try await store.remaining(userID: c.user.id)
        #expect(status.settledCost == usd("0.05"))
        #expect(status.remainingCost == usd("0.95"))

        let junSummary = try await store.usage(userID: c.user.id, period: BillingPeriod(year: 2025, month: 6)!)
        #expect(junSummary.models.map(\.model) == ["gpt-4o-mini"])
        #expect(junSummary.cost == usd("0.9"))
        let julSummary = try await store.usage(userID: c.user.id, period: BillingPeriod(year: 2025, month: 7)!)
        #expect(julSummary.models == [.init(model: "gpt-4o", requests: 1, promptTokens: 0, completionTokens: 1,
                                            billedTokens: 1, cost: usd("0.05"))])
        try await ledger.assertBooksBalance()
        }
    }

    @Test("the month's estimated cost is kept apart: the sum of the records' estimated parts, within settled cost, per month", arguments: LedgerBackend.allCases)
    func estimatedCostApart(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
        let store = ledger.store
        let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1")))
        var hidden = localUsage(prompt: 100, completion: 60, pricePico: 1_000_003)
        hidden.estimatedCompletionTokens = 40
        hidden.estimatedCost = Money(picoUSD: 40 * 1_000_003)
        for (id, usage) in [("a", hidden), ("b", localUsage(prompt: 10, completion: 5, pricePico: 1_000_003)), ("c", hidden)] {
            _ = try await store.settle(try await store.reserve(c.request(id, cost: usd("0.001"))), usage: usage,
                                       status: .completed)
        }
        var status = try await store.remaining(userID: c.user.id)
        #expect(status.settledEstimatedCost == Money(picoUSD: 80 * 1_000_003))
        #expect(status.settledCost == Money(picoUSD: 335 * 1_000_003))
        #expect(status.remainingCost == usd("1") - Money(picoUSD: 335 * 1_000_003)) // an estimate is spent all the same
        clock.advance(seconds: 31 * 86_400) // July: a new month has no estimate yet
        status = try await store.remaining(userID: c.user.id)
        #expect(status.settledEstimatedCost == .zero && status.settledCost == .zero)
        try await ledger.assertBooksBalance()
        }
    }

    @Test("extend grows a hold within the limits, refuses past them with what is left, never shrinks, and ends with the reservation",
          arguments: LedgerBackend.allCases)
    func extendContract(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
            let store = ledger.store
            let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("1"), monthlyTokenLimit: 1_000))
            let r = try await store.reserve(c.request("grow", cost: usd("0.2"), tokens: 200))
            let other = try await store.reserve(c.request("other", cost: usd("0.3"), tokens: 300))
            let grown = try await store.extend(r) { status, held in
                #expect(held == UsageEstimate(cost: usd("0.2"), tokens: 200))
                #expect(status.heldCost == usd("0.5"))
                return (UsageEstimate(cost: usd("0.7"), tokens: 700), "planned")
            }
            #expect(grown.held == UsageEstimate(cost: usd("0.7"), tokens: 700) && grown.plan == "planned")
            #expect(try await store.remaining(userID: c.user.id).remainingCost == .zero)
            do {
                _ = try await store.extend(r) { _, _ in (UsageEstimate(cost: usd("0.7"), tokens: 701), ()) }
                Issue.record("extended past the token limit")
            } catch LedgerError.budgetExhausted(let s) {
                #expect(s.remainingTokens == 0)
            }
            await #expect(throws: LedgerError.self) {
                try await store.extend(r) { _, _ in (UsageEstimate(cost: usd("0.6"), tokens: 700), ()) }
            }
            _ = try await store.setStatus(userID: c.user.id, .disabled)
            await #expect(throws: LedgerError.userDisabled("ann")) {
                try await store.extend(other) { _, held in (held, ()) }
            }
            _ = try await store.setStatus(userID: c.user.id, .active)
            _ = try await store.settle(r, usage: localUsage(prompt: 10, completion: 10), status: .completed)
            await #expect(throws: LedgerError.reservationNotOpen(requestID: "grow")) {
                try await store.extend(r) { _, held in (held, ()) }
            }
            _ = try await store.settle(other, usage: .zero, status: .completed)
            try await ledger.assertBooksBalance()
        }
    }

    @Test("40 concurrent extensions of 8 streams by 10 tokens on a 500-token month: exactly what is free is granted",
          arguments: LedgerBackend.allCases)
    func concurrentExtensions(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, clock: clock) { ledger in
            let store = ledger.store
            let c = try await Customer.add(store, name: "ann", budget: Budget(monthlyTokenLimit: 500))
            var streams: [Reservation] = []
            for i in 0..<8 { streams.append(try await store.reserve(c.request("s\(i)", cost: .zero, tokens: 20))) }
            let granted = await withTaskGroup(of: Int64.self) { group in
                for i in 0..<40 {
                    let r = streams[i % 8]
                    group.addTask {
                        let before = (try? await store.extend(r) { _, held in (UsageEstimate(cost: .zero, tokens: held.tokens + 10), held.tokens) })
                        return before == nil ? 0 : 10
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(granted == 500 - 8 * 20)
            let status = try await store.remaining(userID: c.user.id)
            #expect(status.heldTokens == 500)
            for r in streams { _ = try await store.settle(r, usage: .zero, status: .completed) }
            try await ledger.assertBooksBalance()
        }
    }

}
