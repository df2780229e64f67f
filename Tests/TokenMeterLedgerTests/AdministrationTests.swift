import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Users, budgets and keys (both ledgers)")
struct AdministrationTests {
    @Test("users are unique by name, case-insensitively; bad names are refused with the rule", arguments: LedgerBackend.allCases)
    func users(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
        let store = ledger.store
        let ann = try await store.addUser(name: "ann", budget: Budget(monthlyLimit: usd("3")))
        _ = try await store.addUser(name: "Bob.Smith@example-1", budget: .unlimited)
        await #expect(throws: LedgerError.userExists("ANN")) { try await store.addUser(name: "ANN", budget: .unlimited) }
        for bad in ["", "a b", "-x", "é", String(repeating: "x", count: 65)] {
            await #expect(throws: LedgerError.self, "\(bad)") { try await store.addUser(name: bad, budget: .unlimited) }
        }
        await #expect(throws: LedgerError.invalidBudget("the monthly USD limit -$1.00 is negative")) {
            try await store.addUser(name: "neg", budget: Budget(monthlyLimit: usd("-1")))
        }
        #expect(try await store.listUsers().map(\.name) == ["ann", "Bob.Smith@example-1"])
        #expect(try await store.user(named: "Ann") == ann)
        await #expect(throws: LedgerError.userNotFound("zed")) { try await store.user(named: "zed") }
        await #expect(throws: LedgerError.userIDNotFound(99)) { try await store.remaining(userID: 99) }
        }
    }

    @Test("budget patches keep, set or clear each field", arguments: LedgerBackend.allCases)
    func budgets(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
        let store = ledger.store
        let ann = try await store.addUser(name: "ann", budget: .unlimited)
        #expect(try await store.remaining(userID: ann.id).budget == .unlimited)
        var b = try await store.updateBudget(userID: ann.id, BudgetPatch(monthlyUSD: "12.50", monthlyTokens: "1000000", maxRequestUSD: nil))
        #expect(b == Budget(monthlyLimit: usd("12.5"), monthlyTokenLimit: 1_000_000))
        b = try await store.updateBudget(userID: ann.id, BudgetPatch(monthlyUSD: nil, monthlyTokens: "none", maxRequestUSD: "$0.25"))
        #expect(b == Budget(monthlyLimit: usd("12.5"), maxRequestCost: usd("0.25")))
        #expect(try await store.remaining(userID: ann.id).budget == b)
        }
    }

    @Test("BudgetPatch parsing refuses bad amounts with the field named")
    func patchParsing() throws {
        #expect(throws: LedgerError.invalidBudget("the monthly USD limit -$5.00 is negative")) {
            try BudgetPatch(monthlyUSD: "-5", monthlyTokens: nil, maxRequestUSD: nil)
        }
        #expect(throws: LedgerError.self) { try BudgetPatch(monthlyUSD: "12,50", monthlyTokens: nil, maxRequestUSD: nil) }
        #expect(throws: LedgerError.self) { try BudgetPatch(monthlyUSD: nil, monthlyTokens: "1.5", maxRequestUSD: nil) }
        #expect(throws: LedgerError.self) { try BudgetPatch(monthlyUSD: nil, monthlyTokens: "-1", maxRequestUSD: nil) }
        #expect(try BudgetPatch(monthlyUSD: nil, monthlyTokens: nil, maxRequestUSD: nil).isEmpty)
        #expect(try BudgetPatch(monthlyUSD: "0.000000000001", monthlyTokens: "0", maxRequestUSD: "none")
                == BudgetPatch(monthlyLimit: .set(Money(picoUSD: 1)), monthlyTokenLimit: .set(0), maxRequestCost: .clear))
    }

    @Test("keys list by user with names, oldest first; revoke accepts tm_<prefix>_… and whole keys", arguments: LedgerBackend.allCases)
    func keys(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
        let store = ledger.store
        let ann = try await Customer.add(store, name: "ann", budget: .unlimited)
        let bob = try await Customer.add(store, name: "bob", budget: .unlimited)
        let ann2 = try await store.createAPIKey(userID: ann.user.id)
        #expect(try await store.listAPIKeys(userID: ann.user.id).map(\.prefix) == [ann.key.info.prefix, ann2.info.prefix])
        #expect(try await store.listAPIKeys(userID: nil).map(\.userName) == ["ann", "bob", "ann"])
        #expect(try await store.revokeAPIKey(prefix: bob.key.key).prefix == bob.key.info.prefix)
        #expect(try await store.revokeAPIKey(prefix: ann2.info.displayPrefix).revokedAt != nil)
        #expect(try await store.listAPIKeys(userID: nil).map { $0.revokedAt != nil } == [false, true, true])
        await #expect(throws: LedgerError.userIDNotFound(42)) { try await store.listAPIKeys(userID: 42) }
        }
    }
}

@Suite("Billing periods")
struct BillingPeriodTests {
    @Test("UTC months: boundaries, parsing, next")
    func months() {
        let p = BillingPeriod(containing: Date(timeIntervalSince1970: 1_751_327_999)) // 2025-06-30 23:59:59Z
        #expect(p.description == "2025-06")
        #expect(p.start == Date(timeIntervalSince1970: 1_748_736_000))
        #expect(p.end == Date(timeIntervalSince1970: 1_751_328_000))
        #expect(BillingPeriod(containing: p.end).description == "2025-07")
        #expect(BillingPeriod(parsing: "2024-12")?.next == BillingPeriod(year: 2025, month: 1))
        #expect(BillingPeriod(parsing: "2024-13") == nil)
        #expect(BillingPeriod(parsing: "2024-1") == nil)
        #expect(BillingPeriod(parsing: "24-01") == nil)
        #expect(BillingPeriod(year: 2024, month: 2)!.end.timeIntervalSince(BillingPeriod(year: 2024, month: 2)!.start) == 29 * 86_400)
    }
}
