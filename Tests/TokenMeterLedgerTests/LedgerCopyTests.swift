import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Ledger copy between SQLite and PostgreSQL", .enabled(if: PostgresTestCluster.requirement.shouldRun))
struct LedgerCopyTests {
    let clock = TestClock(midJune2025)

    /// Fills `store` with three users (one disabled, budgets of every kind), four keys (one revoked) and records
    /// over two months: local and provider counts, an estimate, an overrun, every status.
    func fill(_ store: any GatewayLedger) async throws {
        let ann = try await Customer.add(store, name: "ann", budget: Budget(monthlyLimit: usd("5"), maxRequestCost: usd("1")))
        let bob = try await Customer.add(store, name: "Bob", budget: Budget(monthlyTokenLimit: 1_000_000))
        let cid = try await Customer.add(store, name: "cid", budget: .unlimited)
        let spare = try await store.createAPIKey(userID: ann.user.id)
        _ = try await store.revokeAPIKey(prefix: spare.info.prefix)
        _ = try await store.setStatus(userID: cid.user.id, .disabled)
        let statuses: [UsageStatus] = [.completed, .cutByBudget, .clientCancelled, .upstreamError, .interrupted]
        for i in 0..<40 {
            let who = i % 2 == 0 ? ann : bob
            let r = try await store.reserve(who.request("copy-\(i)", cost: usd("0.01"), tokens: 500,
                                                        model: i % 3 == 0 ? "gpt-4o" : "gpt-4o-mini"))
            var usage = localUsage(prompt: Int64(10 + i), completion: Int64(i * 3))
            if i % 4 == 1 {
                usage = MeteredUsage(promptTokens: Int64(10 + i), completionTokens: Int64(i), provider: ProviderUsage(
                    promptTokens: Int64(11 + i), completionTokens: Int64(i + 2), cachedTokens: i % 8 == 1 ? 4 : nil,
                    reasoningTokens: i % 8 == 5 ? 7 : nil), billedBy: .provider, cost: Money(picoUSD: Int64(13 + 2 * i) * 1_000))
            }
            if i % 10 == 7 {
                usage.estimatedCompletionTokens = 5
                usage.estimatedCost = Money(picoUSD: 5_000)
            }
            if i == 20 { usage = localUsage(prompt: 100, completion: 100_000, pricePico: 1_000_000) }  // $0.1001 > held
            _ = try await store.settle(r, usage: usage, status: statuses[i % statuses.count])
            if i == 19 { clock.advance(seconds: 20 * 86_400) }  // the second half ends in July
        }
    }

    @Test("SQLite → PostgreSQL → SQLite keeps users, budgets, keys, every record and the reports; sums verified; keys still authenticate")
    func roundTrip() async throws {
        try PostgresTestCluster.requirement.check()
        try await TestLedger.with(.sqlite, clock: clock) { source in
            try await fill(source.store)
            let key = try await Customer.add(source.store, name: "dee", budget: .unlimited).key.key
            try await TestLedger.with(.postgres, clock: clock) { middle in
                let outcome = try await LedgerCopy.run(from: source.store, to: middle.store, batchSize: 7)
                #expect(outcome.source == outcome.destination)
                #expect(outcome.destination.recordCount == 40)
                #expect(outcome.destination.revokedKeys == 1)
                #expect(try await middle.store.authenticate(apiKey: key).user.name == "dee")
                try await expectSameLedger(source.store, middle.store)
                try await TestLedger.with(.sqlite, clock: clock) { back in
                    _ = try await LedgerCopy.run(from: middle.store, to: back.store)
                    try await expectSameLedger(source.store, back.store)
                }
                // New ids follow the copied ones.
                let eve = try await middle.store.addUser(name: "eve", budget: .unlimited)
                #expect(eve.id == 5)
            }
        }
    }

    @Test("a destination with users and a source with open reservations are refused, naming why", arguments: LedgerBackend.allCases)
    func refusals(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(.sqlite, clock: clock) { source in
            let c = try await Customer.add(source.store, name: "ann", budget: .unlimited)
            try await TestLedger.with(backend, clock: clock) { destination in
                _ = try await destination.store.addUser(name: "zed", budget: .unlimited)
                await #expect { try await LedgerCopy.run(from: source.store, to: destination.store) } throws: {
                    "\($0)".contains("already has 1 users")
                }
            }
            let open = try await source.store.reserve(c.request("live", cost: .zero))
            try await TestLedger.with(backend, clock: clock) { destination in
                await #expect { try await LedgerCopy.run(from: source.store, to: destination.store) } throws: {
                    "\($0)".contains("1 open reservations")
                }
                let users = try await destination.store.listUsers()
                #expect(users.isEmpty)
            }
            _ = try await source.store.settle(open, usage: .zero, status: .completed)
        }
    }

    /// Same users, budgets, keys, records (all fields) and monthly reports for June and July 2025.
    func expectSameLedger(_ a: any GatewayLedger, _ b: any GatewayLedger) async throws {
        #expect(try await a.exportPeople() == b.exportPeople())
        #expect(try await a.exportRecords(afterID: 0, limit: 1_000) == b.exportRecords(afterID: 0, limit: 1_000))
        for month in [6, 7] {
            let period = BillingPeriod(year: 2025, month: month)!
            let (ra, rb) = (try await a.monthlyReport(for: period, userName: nil), try await b.monthlyReport(for: period, userName: nil))
            #expect(ra.totals == rb.totals)
            #expect(ra.users.map(\.totals) == rb.users.map(\.totals))
            #expect(ra.days.map(\.totals) == rb.days.map(\.totals))
            #expect(ra.totals.requests == 20)
        }
    }
}
