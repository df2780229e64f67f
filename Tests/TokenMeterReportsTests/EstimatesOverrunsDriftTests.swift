import Foundation
import FoundationXML
import Testing
@testable import TokenMeterLedger
import TokenMeterMoney
@testable import TokenMeterReports

/// The February scenario's figures (Support.swift, `makeScenario`), worked out by hand:
/// - estimated: ann's cut gpt-4o-mini stream, 20 tokens at 150,001 pUSD (3,000,020 pUSD), and cy's gpt-4o,
///   500 tokens at 2,500,003 pUSD (1,250,001,500 pUSD): 520 tokens, 1,253,001,520 pUSD;
/// - overruns (cost above hold): ann 180,301,202 − 180,000,000 = 301,202; bob 12,000,080 − 12,000,000 = 80;
///   dee 9,997,511,997 − 4,000,000,000 = 5,997,511,997; 5,997,813,279 pUSD in all;
/// - drift, over the provider-counted requests: gpt-4o-mini (ann's first, bob's) prompt 1,040 → 1,042 (+2,
///   +0.192 % → +0.2 %), completion 241 → 240 (−1, −0.415 % → −0.4 %); o3-mini prompt 300 → 301 (+0.3 %),
///   completion 400 → 420 (+5.0 %); all: prompt 1,340 → 1,343 (+0.2 %), completion 641 → 660 (+2.96 % →
///   +3.0 %, so rounding down would fail); gpt-4o and the awkward model were never counted by a provider.
@Suite("Reports: estimated amounts, overruns and drift in every format")
struct EstimatesOverrunsDriftTests {
    static let estimated = Money(picoUSD: 1_253_001_520)
    static let overrun = Money(picoUSD: 5_997_813_279)

    func february() async throws -> (MonthlyReport, ExpectedSums) {
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        return (report, ExpectedSums(ledger.requests(in: february2028)))
    }

    @Test("the report's sums of estimates, overruns and drift counts equal the records', per user, model and in total")
    func sums() async throws {
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        let all = ledger.requests(in: february2028), expected = ExpectedSums(all)
        #expect(expected.estimatedCost == Self.estimated && expected.overrun == Self.overrun)
        #expect(report.totals.estimatedCompletionTokens == 520)
        #expect(report.totals.estimatedCost == Self.estimated)
        #expect(report.totals.overrun == Self.overrun)
        #expect(report.totals.drift == TokenDrift(requests: 3, localPromptTokens: 1_340, providerPromptTokens: 1_343,
                                                  localCompletionTokens: 641, providerCompletionTokens: 660))
        #expect(report.totals.drift?.promptPerMille == 2 && report.totals.drift?.completionPerMille == 30)
        for u in report.users {
            let mine = ExpectedSums(all.filter { $0.user == u.user.name })
            #expect(u.totals.estimatedCost == mine.estimatedCost, "\(u.user.name)")
            #expect(u.totals.estimatedCompletionTokens == mine.estimatedCompletionTokens, "\(u.user.name)")
            #expect(u.totals.overrun == mine.overrun, "\(u.user.name)")
            #expect(u.totals.driftLocalPromptTokens == mine.driftLocalPrompt, "\(u.user.name)")
        }
        for m in report.models {
            let mine = ExpectedSums(all.filter { $0.model == m.model })
            #expect(m.totals.overrun == mine.overrun, "\(m.model)")
            #expect(m.totals.estimatedCost == mine.estimatedCost, "\(m.model)")
            #expect(m.totals.drift.map { [$0.localPromptTokens, $0.providerPromptTokens, $0.localCompletionTokens,
                                          $0.providerCompletionTokens] }
                    == (mine.providerRequests == 0 ? nil : [mine.driftLocalPrompt, mine.providerPrompt,
                                                            mine.driftLocalCompletion, mine.providerCompletion]),
                    "\(m.model)")
        }
        let byModel = Dictionary(uniqueKeysWithValues: report.models.map { ($0.model, $0.totals) })
        #expect(byModel["gpt-4o"]?.drift == nil && byModel[awkwardModel]?.drift == nil)
        #expect(byModel["gpt-4o-mini"]?.drift?.promptPerMille == 2)
        #expect(byModel["gpt-4o-mini"]?.drift?.completionPerMille == -4)
        try assertDailyRollupMatchesRecords(path: ledger.path)
    }

    @Test("table: an 'Of which' line, EST. and OVERRUN columns that add up, and a DRIFT table per model")
    func table() async throws {
        let (report, _) = try await february()
        let lines = TableReportRenderer.render(report).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        #expect(lines.contains("Of which:  $0.00125300152 estimated (520 completion tokens), $0.005997813279 overrun "
                               + "(billed above holds)"))
        func cells(_ line: String) throws -> [String] { line.split(separator: try Regex("  +")).map(String.init) }
        let users = try #require(lines.firstIndex(of: "USERS"))
        #expect(try cells(lines[users + 1])[9...11] == ["EST. COMPLETION", "EST. COST", "OVERRUN"])
        let rows = try Dictionary(uniqueKeysWithValues: lines[(users + 2)...].prefix { !$0.hasPrefix("-") }
            .map { try cells($0) }.map { ($0[0], $0) })
        #expect(rows["ann"]?[9...11] == ["20", "$0.00000300002", "$0.000000301202"])
        #expect(rows["bob"]?[9...11] == ["0", "$0.00", "$0.00000000008"])
        #expect(rows["cy"]?[9...11] == ["500", "$0.0012500015", "$0.00"])
        #expect(rows["dee"]?[9...11] == ["0", "$0.00", "$0.005997511997"])
        // Both TOTAL rows (users, models): 520 tokens, the exact estimated and overrun sums.
        let totals = try lines.filter { $0.hasPrefix("TOTAL  ") }.map(cells)
        #expect(totals.count == 3)
        #expect(totals.prefix(2).allSatisfy { $0[8...10] == ["520", "$0.00125300152", "$0.005997813279"] })

        let drift = try #require(lines.firstIndex { $0.hasPrefix("DRIFT (") })
        let driftRows = try lines[(drift + 2)...].prefix { !$0.isEmpty }.filter { !$0.hasPrefix("---") }.map(cells)
        #expect(driftRows == [
            ["gpt-4o-mini", "2 of 3", "1,040", "1,042", "+2", "+0.2%", "241", "240", "-1", "-0.4%"],
            ["o3-mini", "1 of 1", "300", "301", "+1", "+0.3%", "400", "420", "+20", "+5.0%"],
            ["TOTAL", "3 of 8", "1,340", "1,343", "+3", "+0.2%", "641", "660", "+19", "+3.0%"],
            ["No provider counts, so no drift figure (not 0%): gpt-4o; weird,\"model\"?<script>alert('x')</script> & co."],
        ])
    }

    @Test("CSV: estimated, overrun and drift columns per user-model pair; empty drift where no provider counted")
    func csv() async throws {
        let (report, expected) = try await february()
        let records = try CSVParser.parse(CSVReportRenderer.render(report))
        #expect(records[0].suffix(9) == ["estimated_completion_tokens", "estimated_usd", "overrun_usd",
                                         "drift_local_prompt_tokens", "drift_local_completion_tokens",
                                         "prompt_drift_tokens", "prompt_drift_percent", "completion_drift_tokens",
                                         "completion_drift_percent"])
        #expect(records[0].count == 34)
        let rows = records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(records[0], $0)) }
        #expect(try rows.reduce(Money.zero) { $0 + (try Money(parsing: $1["estimated_usd"]!)) } == expected.estimatedCost)
        #expect(try rows.reduce(Money.zero) { $0 + (try Money(parsing: $1["overrun_usd"]!)) } == expected.overrun)
        #expect(rows.reduce(0) { $0 + Int64($1["estimated_completion_tokens"]!)! } == 520)
        func row(_ user: String, _ model: String) throws -> [String] {
            let r = try #require(rows.first { $0["user"] == user && $0["model"] == model })
            return records[0].suffix(9).map { r[$0]! }
        }
        #expect(try row("ann", "gpt-4o-mini") == ["20", "0.00000300002", "0.000000301202", "1000", "200", "2", "0.2", "0", "0.0"])
        #expect(try row("bob", "gpt-4o-mini") == ["0", "0.00", "0.00000000008", "40", "41", "0", "0.0", "-1", "-2.4"])
        #expect(try row("ann", "o3-mini") == ["0", "0.00", "0.00", "300", "400", "1", "0.3", "20", "5.0"])
        #expect(try row("cy", "gpt-4o") == ["500", "0.0012500015", "0.00", "0", "0", "", "", "", ""])
        #expect(try row("dee", "gpt-4o") == ["0", "0.00", "0.005997511997", "0", "0", "", "", "", ""])
    }

    @Test("JSON: estimated, overrun_usd and drift in every Totals; drift is null where no provider counted")
    func json() async throws {
        let (report, _) = try await february()
        let document = try #require(try JSONSerialization.jsonObject(with: Data(JSONReportRenderer.render(report).utf8))
            as? [String: Any])
        #expect(JSONShape.monthlyReport.violations(document) == [])
        #expect(document["schema"] as? String == "tokenmeter.monthly-report/1")
        let totals = try #require(document["totals"] as? [String: Any])
        let estimated = try #require(totals["estimated"] as? [String: Any])
        #expect((estimated["completion_tokens"] as? NSNumber)?.int64Value == 520)
        #expect(estimated["cost_usd"] as? String == "0.00125300152")
        #expect(totals["overrun_usd"] as? String == "0.005997813279")
        let drift = try #require(totals["drift"] as? [String: Any])
        #expect(drift.mapValues { "\($0)" } == [
            "requests": "3", "local_prompt_tokens": "1340", "provider_prompt_tokens": "1343", "prompt_tokens": "3",
            "prompt_percent": "0.2", "local_completion_tokens": "641", "provider_completion_tokens": "660",
            "completion_tokens": "19", "completion_percent": "3.0",
        ])
        let models = try #require(document["models"] as? [[String: Any]])
        func modelTotals(_ name: String) throws -> [String: Any] {
            try #require(models.first { $0["model"] as? String == name }?["totals"] as? [String: Any])
        }
        #expect(try modelTotals("gpt-4o")["drift"] is NSNull)
        #expect(try modelTotals(awkwardModel)["drift"] is NSNull)
        let mini = try #require(try modelTotals("gpt-4o-mini")["drift"] as? [String: Any])
        #expect((mini["completion_tokens"] as? NSNumber)?.int64Value == -1)
        #expect(mini["completion_percent"] as? String == "-0.4")
        #expect(try modelTotals("gpt-4o")["overrun_usd"] as? String == "0.005997511997")
        let users = try #require(document["users"] as? [[String: Any]])
        let overruns = try users.map { try Money(parsing: try #require(($0["totals"] as? [String: Any])?["overrun_usd"] as? String)) }
        #expect(overruns.reduce(.zero, +) == Self.overrun)
        let cy = try #require(users.first { $0["user"] as? String == "cy" }?["totals"] as? [String: Any])
        #expect((cy["estimated"] as? [String: Any])?["cost_usd"] as? String == "0.0012500015")
    }

    @Test("HTML: cards for the estimated part and overruns, table columns that add up, a drift table and a note")
    func html() async throws {
        let (report, _) = try await february()
        let root = try #require(try XMLDocument(xmlString: HTMLReportRenderer.render(report), options: []).rootElement())
        func texts(_ xpath: String) throws -> [String] { try root.nodes(forXPath: xpath).map { $0.stringValue ?? "" } }
        let cards = try texts("//section[@class='cards']//div[@class='value']")
        #expect(cards.suffix(2) == ["$0.00125300152", "$0.005997813279"])
        let users = "//section[h2='Users']//table"
        #expect(try texts(users + "/thead/tr/th[position() >= 9 and position() <= 11]")
                == ["Estimated completion", "Estimated cost", "Overrun"])
        #expect(try texts(users + "/tbody/tr/td[11]").map { try Money(parsing: $0) }.reduce(.zero, +) == Self.overrun)
        #expect(try texts(users + "/tbody/tr/td[10]").map { try Money(parsing: $0) }.reduce(.zero, +) == Self.estimated)
        #expect(try texts(users + "/tfoot/tr/td[position() >= 9 and position() <= 11]")
                == ["520", "$0.00125300152", "$0.005997813279"])
        let drift = "//section[h2='Drift: provider against local counts']"
        #expect(try root.nodes(forXPath: drift + "//tbody/tr").map { try $0.nodes(forXPath: "td").map { $0.stringValue ?? "" } } == [
            ["gpt-4o-mini", "2 of 3", "1,040", "1,042", "+2", "+0.2%", "241", "240", "-1", "-0.4%"],
            ["o3-mini", "1 of 1", "300", "301", "+1", "+0.3%", "400", "420", "+20", "+5.0%"],
        ])
        #expect(try texts(drift + "//tfoot/tr/td")
                == ["Total", "3 of 8", "1,340", "1,343", "+3", "+0.2%", "641", "660", "+19", "+3.0%"])
        let notes = try texts(drift + "/p")
        #expect(notes.contains("No provider counts, so no drift figure (not 0%): gpt-4o; \(awkwardModel)."))
    }

    @Test("a month no provider counted says there is no drift figure, in every format, rather than 0%")
    func noProviderCounts() async throws {
        let ledger = try await makeScenario()
        let january = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2028, month: 1)!, userName: nil)
        #expect(january.totals.requests == 1 && january.totals.drift == nil)
        // Reserved with no hold: the whole cost is an overrun.
        #expect(january.totals.overrun == Money(picoUSD: 1_001 * 150_001))
        let table = TableReportRenderer.render(january)
        #expect(table.contains("No request was counted by the provider, so there is no drift figure."))
        let csv = try CSVParser.parse(CSVReportRenderer.render(january))
        #expect(csv[1].suffix(4) == ["", "", "", ""])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(JSONReportRenderer.render(january).utf8))
            as? [String: Any])
        #expect(JSONShape.monthlyReport.violations(json) == [])
        #expect((json["totals"] as? [String: Any])?["drift"] is NSNull)
        #expect(HTMLReportRenderer.render(january).contains("The provider counted no request, so there is no drift figure."))
    }

    @Test("drift percentages: tenths of a percent of the local count, rounded half away from zero, no overflow")
    func perMille() {
        #expect(TokenDrift.perMille(19, of: 641) == 30) // 29.64
        #expect(TokenDrift.perMille(-1, of: 241) == -4) // -4.15
        #expect(TokenDrift.perMille(1, of: 2_000) == 1) // 0.5: half, away from zero
        #expect(TokenDrift.perMille(-1, of: 2_000) == -1)
        #expect(TokenDrift.perMille(1, of: 2_001) == 0)
        #expect(TokenDrift.perMille(5, of: 0) == nil)
        #expect(TokenDrift.perMille(.max, of: 1) == .max && TokenDrift.perMille(-.max, of: 1) == -.max)
        #expect(TokenDrift.perMille(.max, of: .max) == 1_000)
        let d = TokenDrift(requests: 1, localPromptTokens: 0, providerPromptTokens: 7, localCompletionTokens: 10,
                           providerCompletionTokens: 10)
        #expect(d.promptTokens == 7 && d.promptPerMille == nil && d.completionPerMille == 0)
        #expect(ReportText.perMille(-4) == "-0.4" && ReportText.perMille(30) == "3.0" && ReportText.perMille(0) == "0.0")
        #expect(ReportText.signedPerMille(2) == "+0.2" && ReportText.signedPerMille(-15) == "-1.5")
        #expect(ReportText.signedPerMille(0) == "0.0" && ReportText.signedCount(1_234) == "+1,234")
    }
}
