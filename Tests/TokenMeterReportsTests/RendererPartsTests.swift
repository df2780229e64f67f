import Testing
import TokenMeterJSON
@testable import TokenMeterLedger
import TokenMeterMoney
@testable import TokenMeterReports

@Suite("Renderer parts: escaping, chart scales, percentages, dates")
struct RendererPartsTests {
    @Test("CSV fields are quoted only when needed, quotes doubled, and parse back unchanged")
    func csvEscaping() throws {
        #expect(CSVReportRenderer.escape("gpt-4o") == "gpt-4o")
        #expect(CSVReportRenderer.escape("a,b") == "\"a,b\"")
        #expect(CSVReportRenderer.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVReportRenderer.escape(" pad") == "\" pad\"")
        let fields = ["x\r\ny", "\"\u{301}", "=1+2", "ü,ñ", ""]
        #expect(try CSVParser.parse(CSVReportRenderer.line(fields)) == [fields])
    }

    @Test("HTML escaping covers markup, both quotes and characters XML forbids")
    func htmlEscaping() {
        #expect(HTMLText.escape("<a href='x'>\"&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;")
        #expect(HTMLText.escape("a\u{1}b\u{FFFF}") == "a\u{FFFD}b\u{FFFD}")
        #expect(HTMLText.truncated("abcdef", to: 4) == "abc…")
    }

    @Test("JSON strings escape quotes, backslashes, control characters and U+2028")
    func jsonEscaping() {
        #expect(JSONValue.string("a\"b\\c\n\u{1}\u{2028}").prettyJSON() == #""a\"b\\c\n\u0001\u2028""#)
        #expect(JSONValue.object(["k": [1, .null]]).prettyJSON() == "{\n  \"k\": [\n    1,\n    null\n  ]\n}")
    }

    @Test("chart scales choose 1-2-5 steps in integers, even near Int64.max")
    func chartScale() {
        let small = ChartScale(fitting: 7) // 4 intervals of 2 fit within the 5 allowed
        #expect(small.step == 2 && small.maximum == 8 && small.ticks == [0, 2, 4, 6, 8])
        let money = ChartScale(fitting: 1_622_439_666_800)
        #expect(money.step == 500_000_000_000 && money.maximum == 2_000_000_000_000)
        #expect(money.tenths(1_000_000_000_000, span: 240) == 1_200)
        #expect(ChartScale(fitting: 0).maximum == 4)
        let huge = ChartScale(fitting: .max)
        #expect(huge.maximum >= Int64.max / 2)
        #expect(huge.tenths(.max, span: 400) <= 4_000)
        #expect(ChartScale.svg(1_234) == "123.4" && ChartScale.svg(50) == "5" && ChartScale.svg(-5) == "-0.5")
    }

    @Test("budget percentages are exact basis points, rounded down, without overflow")
    func basisPoints() {
        typealias U = MonthlyReport.UserUsage
        #expect(U.basisPoints(1, of: 3) == 3_333)
        #expect(U.basisPoints(Int64.max, of: Int64.max) == 10_000)
        #expect(U.basisPoints(Int64.max, of: 1) == .max)
        #expect(ReportText.percent(basisPoints: 19_995) == "199.95")
        #expect(ReportText.percent(basisPoints: 7) == "0.07")
    }

    @Test("UTC dates come from integer arithmetic: leap days, year ends, the epoch")
    func dates() {
        #expect(ReportText.day(utc(2028, 2, 29, 23, 59, 59, ms: 999)) == "2028-02-29")
        #expect(ReportText.timestamp(utc(2028, 2, 29, 23, 59, 59, ms: 999)) == "2028-02-29T23:59:59Z")
        #expect(ReportText.day(utc(2100, 3, 1)) == "2100-03-01")
        #expect(ReportText.timestamp(instant(ms: 0)) == "1970-01-01T00:00:00Z")
        #expect(ReportText.count(1_234_567) == "1,234,567" && ReportText.count(-1_000) == "-1,000")
    }
}
