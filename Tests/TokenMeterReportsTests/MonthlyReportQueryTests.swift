import Foundation
import GRDB
import Testing
import TokenMeterLedger
import TokenMeterMoney

@Suite("MonthlyReport query (SQL aggregation over the daily rollup)")
struct MonthlyReportQueryTests {
    @Test("totals, users and models equal the sums of the requests written, to the pico-dollar")
    func sumsEqualTheRecords() async throws {
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        let expected = ExpectedSums(ledger.requests(in: february2028))
        #expect(expected.requests == 8)
        #expect(report.totals.requests == expected.requests)
        #expect(report.totals.promptTokens == expected.promptTokens)
        #expect(report.totals.completionTokens == expected.completionTokens)
        #expect(report.totals.billedTokens == expected.billedTokens)
        #expect(report.totals.cost == expected.cost)
        #expect(report.totals.providerReportedRequests == expected.providerRequests)
        #expect(report.totals.cachedTokens == 100)
        #expect(report.totals.reasoningTokens == 64)
        for status in UsageStatus.allCases {
            #expect(report.totals.outcomes[status] == expected.statuses[status, default: 0], "\(status)")
        }
        // Provider-billed and locally billed parts add up to the whole.
        #expect(report.totals.billedByProvider.requests == 3)
        #expect(report.totals.billedByProvider.cost + report.totals.billedLocally.cost == expected.cost)

        #expect(report.users.map(\.user.name) == ["ann", "bob", "cy", "dee", "eve"])
        for u in report.users {
            let mine = ExpectedSums(ledger.requests(in: february2028, user: u.user.name))
            #expect(u.totals.cost == mine.cost, "\(u.user.name)")
            #expect(u.totals.requests == mine.requests, "\(u.user.name)")
            // The ledger's own per-user summary agrees.
            let summary = try await ledger.store.usage(userID: u.user.id, period: february2028)
            #expect(summary.cost == u.totals.cost)
            #expect(summary.billedTokens == u.totals.billedTokens)
        }
        for m in report.models {
            let mine = ExpectedSums(ledger.requests(in: february2028).filter { $0.model == m.model })
            #expect(m.totals.cost == mine.cost, "\(m.model)")
        }
        #expect(report.models.map(\.model) == ["gpt-4o", "gpt-4o-mini", "o3-mini", awkwardModel].sorted())
        #expect(report.userModels.count == 7)
        try assertDailyRollupMatchesRecords(path: ledger.path)
    }

    @Test("month edges: 00:00:00.000 on the 1st and 23:59:59.999 on the leap day count in February, not next door")
    func monthEdges() async throws {
        let ledger = try await makeScenario()
        let january = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2028, month: 1)!, userName: nil)
        let march = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2028, month: 3)!, userName: nil)
        #expect(january.totals.requests == 1)
        #expect(january.totals.cost == Money(picoUSD: 1_001 * 150_001))
        #expect(january.days.count == 31)
        #expect(january.days.last?.totals.requests == 1)
        #expect(march.totals.requests == 1)
        #expect(march.days.first?.totals.cost == Money(picoUSD: 2_003 * 150_001))

        let february = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        #expect(february.days.count == 29)
        #expect(february.days.first?.dayOfMonth == 1)
        #expect(february.days.first?.totals.requests == 1)
        let leapDay = try #require(february.days.last)
        #expect(leapDay.dayOfMonth == 29)
        #expect(leapDay.date == utc(2028, 2, 29))
        #expect(leapDay.totals.requests == 2) // dee at 01:00 and ann at 23:59:59.999
        #expect(leapDay.totals.cost == Money(picoUSD: 3_999 * 2_500_003 + 721 * 1_100_007))
        // The records were stored with the exact milliseconds.
        let ends = try await DatabaseQueue(path: ledger.path).read { db in
            try Int64.fetchAll(db, sql: "SELECT ended_at FROM usage_records ORDER BY ended_at")
        }
        #expect(ends.first == 1_832_975_999_999) // 2028-01-31T23:59:59.999Z
        #expect(ends.contains(1_835_481_599_999)) // 2028-02-29T23:59:59.999Z
        #expect(ends.last == 1_835_481_600_000) // 2028-03-01T00:00:00.000Z
    }

    @Test("users with no budget, over budget, disabled and idle are all listed with the right budget figures")
    func budgetsAndStatuses() async throws {
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        let byName = Dictionary(uniqueKeysWithValues: report.users.map { ($0.user.name, $0) })
        let ann = try #require(byName["ann"]), bob = try #require(byName["bob"]), cy = try #require(byName["cy"])
        let dee = try #require(byName["dee"]), eve = try #require(byName["eve"])
        #expect(bob.budget == .unlimited)
        #expect(bob.costLimitUsedBasisPoints == nil)
        #expect(cy.user.status == .disabled)
        #expect(cy.totals.cost == Money(picoUSD: 1_801 * 2_500_003))
        // 0.004502505403 / 5 = 0.09 % (rounded down to basis points).
        #expect(cy.costLimitUsedBasisPoints == 9)
        // dee spent 0.009997511997 of 0.005: 199.95 %.
        #expect(dee.costLimitUsedBasisPoints == 19_995)
        #expect(eve.totals.isEmpty)
        #expect(eve.costLimitUsedBasisPoints == 0)
        // 3,206 billed tokens of 1,000,000: 0.32 %.
        #expect(ann.tokenLimitUsedBasisPoints == Int64(32))
    }

    @Test("a month in progress is partial up to the clock; a future month has no days; an empty month is empty")
    func coverage() async throws {
        let ledger = try await makeScenario()
        ledger.clock.set(utc(2028, 2, 15, 9, 30))
        let partial = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        #expect(partial.coverage == .partial(through: utc(2028, 2, 15, 9, 30)))
        // Records after the clock (written by the scenario) still show: days run to the last one with data.
        #expect(partial.days.count == 29)

        ledger.clock.set(utc(2028, 4, 2, 10))
        let april = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2028, month: 4)!, userName: nil)
        #expect(april.coverage == .partial(through: utc(2028, 4, 2, 10)))
        #expect(april.days.map(\.dayOfMonth) == [1, 2])
        #expect(april.isEmpty)
        #expect(april.users.count == 5)

        let future = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2030, month: 1)!, userName: nil)
        #expect(future.coverage == .notStarted)
        #expect(future.days.isEmpty)

        let before = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2027, month: 12)!, userName: nil)
        #expect(before.coverage == .complete)
        #expect(before.users.isEmpty) // nobody existed yet
        #expect(before.totals == UsageTotals())
        #expect(before.days.count == 31)
    }

    @Test("--user restricts every figure to that user (case-insensitive); an unknown user is userNotFound")
    func userFilter() async throws {
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: february2028, userName: "BOB")
        #expect(report.users.map(\.user.name) == ["bob"])
        #expect(report.userFilter == "BOB")
        #expect(report.totals.cost == ExpectedSums(ledger.requests(in: february2028, user: "bob")).cost)
        #expect(Set(report.models.map(\.model)) == [awkwardModel, "gpt-4o-mini"])
        #expect(report.days.allSatisfy { $0.users.allSatisfy { $0.userID == report.users[0].user.id } })
        await #expect(throws: LedgerError.userNotFound("zed")) {
            _ = try await ledger.store.monthlyReport(for: february2028, userName: "zed")
        }
    }

    @Test("month strings: YYYY-MM parses; 2025-13, 2025-6, 1969-12, 2025-06-01 and garbage do not")
    func monthParsing() {
        #expect(BillingPeriod(parsing: "2028-02") == BillingPeriod(year: 2028, month: 2))
        for bad in ["2025-13", "2025-00", "2025-6", "1969-12", "2025-06-01", "june", "", "2025/06", "+025-06"] {
            #expect(BillingPeriod(parsing: bad) == nil, "\(bad)")
        }
    }
}
