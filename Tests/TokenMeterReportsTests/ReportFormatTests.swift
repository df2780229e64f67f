import Foundation
import FoundationXML
import Testing
import TokenMeterLedger
import TokenMeterMoney
@testable import TokenMeterReports

@Suite("Report formats: every format's figures equal the ledger's to the pico-dollar")
struct ReportFormatTests {
    /// The scenario's February report and the sums the test computed from the requests it wrote.
    func february() async throws -> (MonthlyReport, ExpectedSums, ReportLedger) {
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        return (report, ExpectedSums(ledger.requests(in: february2028)), ledger)
    }

    @Test("table: numbers right-aligned under their headings; user costs and the TOTAL row add up exactly")
    func table() async throws {
        let (report, expected, _) = try await february()
        let text = TableReportRenderer.render(report)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "TokenMeter usage report for 2028-02 (calendar month, UTC)")
        #expect(lines.contains("Coverage:  complete month"))
        #expect(lines.contains("Totals:    8 requests, \(expected.billedTokens.formatted()) billed tokens, \(expected.cost)"))
        let header = try #require(lines.firstIndex(of: "USERS")).advanced(by: 1)
        let costEnd = try #require(lines[header].range(of: "COST")).upperBound.utf16Offset(in: lines[header])
        var sum = Money.zero
        for line in lines[(header + 1)...].prefix(while: { !$0.hasPrefix("-") }) {
            let cells = line.split(separator: try Regex("  +")).map(String.init)
            #expect(cells.count == 18, "\(line)")
            sum += try Money(parsing: cells[8])
            // Right-aligned: the cost ends where the heading ends.
            let end = try #require(line.range(of: cells[8])).upperBound.utf16Offset(in: line)
            #expect(end == costEnd, "\(line)")
        }
        #expect(sum == expected.cost)
        let total = try #require(lines.first { $0.hasPrefix("TOTAL") })
        #expect(total.contains(" \(expected.cost) "))
        #expect(expected.cost == Money(picoUSD: 1_202 * 150_001 + 550 * 2_500_003 + 721 * 1_100_007 + 733 * 150_001
                                               + 70 + 80 * 150_001 + 1_801 * 2_500_003 + 3_999 * 2_500_003))
        // The awkward model name cannot break a line of the models table.
        #expect(text.contains("weird,\"model\"?<script>alert('x')</script> & co"))
    }

    @Test("CSV: RFC 4180 that parses back; one row per user-model pair; sums equal the ledger's")
    func csv() async throws {
        let (report, expected, _) = try await february()
        let text = CSVReportRenderer.render(report)
        let records = try CSVParser.parse(text)
        #expect(records[0] == CSVReportRenderer.columns)
        let rows = records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(records[0], $0)) }
        #expect(rows.count == 7)
        #expect(rows.allSatisfy { $0.count == CSVReportRenderer.columns.count && $0["month"] == "2028-02" })
        #expect(try rows.reduce(Money.zero) { $0 + (try Money(parsing: $1["cost_usd"]!)) } == expected.cost)
        #expect(rows.reduce(0) { $0 + Int64($1["requests"]!)! } == expected.requests)
        #expect(rows.reduce(0) { $0 + Int64($1["billed_tokens"]!)! } == expected.billedTokens)
        #expect(rows.reduce(0) { $0 + Int64($1["prompt_tokens"]!)! } == expected.promptTokens)
        let awkward = try #require(rows.first { $0["model"] == awkwardModel })
        #expect(awkward["user"] == "bob")
        #expect(awkward["cost_usd"] == "0.00000000007")
        #expect(awkward["cached_tokens"] == "")
        #expect(awkward["upstream_error"] == "1")
        #expect(rows.first { $0["user"] == "cy" }?["user_status"] == "disabled")
        let annMini = try #require(rows.first { $0["user"] == "ann" && $0["model"] == "gpt-4o-mini" })
        #expect(annMini["requests"] == "2")
        #expect(annMini["cached_tokens"] == "100")
        #expect(annMini["billed_by_provider_requests"] == "1")
        #expect(annMini["billed_locally_tokens"] == "733")
        #expect(annMini["cut_by_budget"] == "1")
    }

    @Test("JSON: matches the documented schema; integers for tokens, exact strings for money; sums agree")
    func json() async throws {
        let (report, expected, _) = try await february()
        let text = JSONReportRenderer.render(report)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(JSONShape.monthlyReport.violations(document) == [])
        let totals = try #require(document["totals"] as? [String: Any])
        #expect(totals["cost_usd"] as? String == expected.cost.decimalString)
        #expect((totals["requests"] as? NSNumber)?.int64Value == expected.requests)
        #expect((totals["billed_tokens"] as? NSNumber)?.int64Value == expected.billedTokens)
        let provider = try #require(totals["provider_reported"] as? [String: Any])
        #expect((provider["cached_tokens"] as? NSNumber)?.int64Value == 100)
        func sum(_ key: String) throws -> Money {
            let items = try #require(document[key] as? [[String: Any]])
            return try items.reduce(.zero) { total, item in
                let cost = (item["totals"] as? [String: Any])?["cost_usd"] ?? item["cost_usd"]
                return total + (try Money(parsing: try #require(cost as? String)))
            }
        }
        #expect(try sum("users") == expected.cost)
        #expect(try sum("models") == expected.cost)
        #expect(try sum("user_models") == expected.cost)
        #expect(try sum("days") == expected.cost)
        let users = try #require(document["users"] as? [[String: Any]])
        let dee = try #require(users.first { $0["user"] as? String == "dee" })
        #expect((dee["budget"] as? [String: Any])?["monthly_usd_used_percent"] as? String == "199.95")
        #expect((dee["budget"] as? [String: Any])?["monthly_usd"] as? String == "0.005")
        let bob = try #require(users.first { $0["user"] as? String == "bob" })
        #expect((bob["budget"] as? [String: Any])?["monthly_usd"] is NSNull)
        let models = try #require(document["models"] as? [[String: Any]])
        #expect(models.contains { $0["model"] as? String == awkwardModel })
        #expect(document["first_day"] as? String == "2028-02-01")
        #expect(document["last_day"] as? String == "2028-02-29")
        #expect(document["coverage"] as? String == "complete")
        #expect(document["data_through"] is NSNull)
    }

    @Test("HTML: well-formed XML, no script or external resource, three charts, exact figures, text escaped")
    func html() async throws {
        let (report, expected, _) = try await february()
        let text = HTMLReportRenderer.render(report)
        let document = try XMLDocument(xmlString: text, options: [])
        let root = try #require(document.rootElement())
        func nodes(_ xpath: String) throws -> [XMLNode] { try root.nodes(forXPath: xpath) }
        #expect(try nodes("//*[local-name()='script']").isEmpty)
        #expect(try nodes("//@src | //@href").isEmpty)
        #expect(!text.contains("url(") && !text.contains("@import") && !text.contains("<script"))
        #expect(try nodes("//*[local-name()='svg']").count == 3)
        #expect(try nodes("//*[local-name()='rect']").count > 10)
        let cards = try nodes("//section[@class='cards']//div[@class='value']").map { $0.stringValue ?? "" }
        #expect(cards.first == expected.cost.description)
        #expect(cards.dropFirst().first == "8")
        // The users table: its rows add up to the total in its footer, which is exact.
        let userTable = try #require(try nodes("//section[h2='Users']//table").first)
        let costs = try userTable.nodes(forXPath: "tbody/tr/td[8]").map { try Money(parsing: $0.stringValue ?? "") }
        #expect(costs.count == 5)
        #expect(costs.reduce(.zero, +) == expected.cost)
        #expect(try userTable.nodes(forXPath: "tfoot/tr/td[8]").first?.stringValue == expected.cost.description)
        let modelNames = try nodes("//section[h2='Models']//tbody/tr/td[1]").map { $0.stringValue ?? "" }
        #expect(modelNames.contains(awkwardModel))
        #expect(try nodes("//section[h2='Days']//tbody/tr").count == 29)
        #expect(try nodes("//*[local-name()='title' and contains(., 'dee')]").count >= 1)
        #expect(text.contains("199.95% of $0.005"))
        #expect(text.contains("@media print") && text.contains("@media (max-width"))
    }

    @Test("an empty month renders a valid, empty report in every format")
    func emptyMonth() async throws {
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2027, month: 11)!, userName: nil)
        #expect(report.isEmpty && report.users.isEmpty)
        #expect(TableReportRenderer.render(report).contains("No requests were settled in 2027-11."))
        #expect(try CSVParser.parse(CSVReportRenderer.render(report)) == [CSVReportRenderer.columns])
        let json = try JSONSerialization.jsonObject(with: Data(JSONReportRenderer.render(report).utf8))
        #expect(JSONShape.monthlyReport.violations(json) == [])
        #expect(((json as? [String: Any])?["totals"] as? [String: Any])?["cost_usd"] as? String == "0.00")
        let html = HTMLReportRenderer.render(report)
        let document = try XMLDocument(xmlString: html, options: [])
        #expect(try document.nodes(forXPath: "//*[local-name()='svg']").isEmpty)
        #expect(html.contains("No usage was settled in 2027-11"))
    }

    @Test("a partial month says so, with the instant its data runs to, in every format")
    func partialMonth() async throws {
        let ledger = try await makeScenario()
        ledger.clock.set(utc(2028, 3, 9, 14, 5, 6))
        let report = try await ledger.store.monthlyReport(for: BillingPeriod(year: 2028, month: 3)!, userName: nil)
        #expect(TableReportRenderer.render(report)
            .contains("Coverage:  partial: month in progress, data to 2028-03-09T14:05:06Z"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(JSONReportRenderer.render(report).utf8))
            as? [String: Any])
        #expect(json["coverage"] as? String == "partial")
        #expect(json["data_through"] as? String == "2028-03-09T14:05:06Z")
        #expect((json["days"] as? [Any])?.count == 9)
        #expect(HTMLReportRenderer.render(report).contains("partial: to 2028-03-09"))
    }

    @Test("ReportFormat names, media types and renderers line up for the server's admin route")
    func formats() async throws {
        let (report, _, _) = try await february()
        #expect(ReportFormat.allCases.map(\.rawValue) == ["table", "csv", "json", "html"])
        #expect(ReportFormat.csv.mediaType.hasPrefix("text/csv"))
        #expect(ReportFormat.json.render(report) == JSONReportRenderer.render(report))
        #expect(ReportFormat.html.fileExtension == "html" && ReportFormat.table.fileExtension == "txt")
    }
}
