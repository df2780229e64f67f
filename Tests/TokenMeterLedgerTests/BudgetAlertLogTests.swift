import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Budget alerts and recent records (both ledgers)")
struct BudgetAlertLogTests {
    func event(_ user: User, threshold: Int, limit: BudgetLimitKind = .usd, period: BillingPeriod? = nil) -> BudgetAlertEvent {
        BudgetAlertEvent(userID: user.id, period: period ?? BillingPeriod(year: 2026, month: 12)!, limit: limit,
                         thresholdPercent: threshold, limitValue: 1_000_000_000_000, spent: 800_000_000_000,
                         committed: 900_000_000_000, reason: .spent)
    }

    @Test("an alert is recorded once per user, month, limit and threshold, however many ask at once", arguments: LedgerBackend.allCases)
    func recordedOnce(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let ann = try await store.addUser(name: "ann", budget: Budget(monthlyLimit: usd("1")))
            let bob = try await store.addUser(name: "bob", budget: .unlimited)
            let recorded = try await withThrowingTaskGroup(of: BudgetAlert?.self) { group in
                for _ in 0..<20 { group.addTask { try await store.recordBudgetAlert(event(ann, threshold: 80), claim: .seconds(60)) } }
                return try await group.reduce(into: [BudgetAlert]()) { if let a = $1 { $0.append(a) } }
            }
            #expect(recorded.count == 1)
            let first = try #require(recorded.first)
            #expect(first.userName == "ann" && first.event == event(ann, threshold: 80) && first.attempts == 0 && first.deliveredAt == nil)
            // Another threshold, limit, month or user is another alert.
            #expect(try await store.recordBudgetAlert(event(ann, threshold: 100), claim: .seconds(60)) != nil)
            #expect(try await store.recordBudgetAlert(event(ann, threshold: 80, limit: .tokens), claim: .seconds(60)) != nil)
            #expect(try await store.recordBudgetAlert(event(ann, threshold: 80, period: BillingPeriod(year: 2027, month: 1)!), claim: .seconds(60)) != nil)
            #expect(try await store.recordBudgetAlert(event(bob, threshold: 80), claim: .seconds(60)) != nil)
            #expect(try await store.recordBudgetAlert(event(ann, threshold: 100), claim: .seconds(60)) == nil)

            try await store.recordAlertDelivery(alertID: first.id, attempts: 1, deliveredAt: nil, error: "HTTP 500")
            var listed = try await store.budgetAlerts(userID: ann.id, limit: 10)
            #expect(listed.count == 4 && listed.allSatisfy { $0.userName == "ann" })
            #expect(listed.map(\.id) == listed.map(\.id).sorted(by: >), "newest first")
            #expect(listed.last?.attempts == 1 && listed.last?.lastError == "HTTP 500")
            let at = Date(timeIntervalSince1970: 1_796_000_000)
            try await store.recordAlertDelivery(alertID: first.id, attempts: 2, deliveredAt: at, error: nil)
            listed = try await store.budgetAlerts(userID: nil, limit: 10)
            #expect(listed.count == 5)
            let delivered = try #require(listed.first { $0.id == first.id })
            #expect(delivered.deliveredAt == at && delivered.attempts == 2 && delivered.lastError == nil)
            #expect(try await store.budgetAlerts(userID: nil, limit: 2).count == 2)
        }
    }

    @Test("an undelivered alert is claimed by one sender at a time: its recorder first, anyone once that claim runs out", arguments: LedgerBackend.allCases)
    func claims(_ backend: LedgerBackend) async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_796_000_000))
        try await TestLedger.with(backend, clock: clock) { ledger in
            let store = ledger.store
            let ann = try await store.addUser(name: "ann", budget: Budget(monthlyLimit: usd("1")))
            func claim() async throws -> [Int64] {
                try await store.claimUndeliveredAlerts(attempts: 3, within: .seconds(86_400), claim: .seconds(60), limit: 10).map(\.id)
            }
            let a = try #require(try await store.recordBudgetAlert(event(ann, threshold: 80), claim: .seconds(60)))
            #expect(try await claim().isEmpty, "its recorder holds it")
            clock.advance(seconds: 61)
            #expect(try await claim() == [a.id])
            #expect(try await claim().isEmpty, "claimed again just now")
            // Two sweeps at once after the claim ran out: one of them gets it.
            clock.advance(seconds: 61)
            let both = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<2 { group.addTask { try await claim() } }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(both == [a.id])
            // Out of attempts, delivered, or too old: never again.
            try await store.recordAlertDelivery(alertID: a.id, attempts: 3, deliveredAt: nil, error: "HTTP 500")
            let b = try #require(try await store.recordBudgetAlert(event(ann, threshold: 100), claim: .seconds(60)))
            try await store.recordAlertDelivery(alertID: b.id, attempts: 1, deliveredAt: clock.now, error: nil)
            clock.advance(seconds: 61)
            #expect(try await claim().isEmpty)
            let c = try #require(try await store.recordBudgetAlert(event(ann, threshold: 80, limit: .tokens), claim: .seconds(60)))
            try await store.recordAlertDelivery(alertID: c.id, attempts: 1, deliveredAt: nil, error: "refused")
            clock.advance(seconds: 86_401)
            #expect(try await claim().isEmpty)
            let d = try #require(try await store.recordBudgetAlert(event(ann, threshold: 100, limit: .tokens), claim: .seconds(60)))
            clock.advance(seconds: 61)
            let claimed = try await store.claimUndeliveredAlerts(attempts: 3, within: .seconds(86_400), claim: .seconds(60), limit: 10)
            #expect(claimed.map(\.id) == [d.id] && claimed[0].userName == "ann" && claimed[0].attempts == 0)
        }
    }

    @Test("a user's recent records come newest first, only theirs", arguments: LedgerBackend.allCases)
    func recentRecords(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let ann = try await Customer.add(store, name: "ann", budget: .unlimited)
            let bob = try await Customer.add(store, name: "bob", budget: .unlimited)
            for i in 0..<5 {
                let r = try await store.reserve(ann.request("a\(i)", cost: usd("0.01")))
                _ = try await store.settle(r, usage: localUsage(prompt: 10, completion: Int64(i)), status: .completed)
            }
            let b = try await store.reserve(bob.request("b0", cost: usd("0.01")))
            _ = try await store.settle(b, usage: localUsage(prompt: 1, completion: 1), status: .cutByBudget)
            let recent = try await store.recentRecords(userID: ann.user.id, limit: 3)
            #expect(recent.map(\.requestID) == ["a4", "a3", "a2"])
            #expect(recent.first?.usage.completionTokens == 4)
            #expect(try await store.recentRecords(userID: bob.user.id, limit: 10).map(\.status) == [.cutByBudget])
        }
    }
}
