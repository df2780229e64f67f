import Foundation
import TokenMeterLedger
import TokenMeterMoney

/// Text forms shared by the renderers: counts, percentages, exact money and UTC dates.
/// Pure functions of their inputs (no locale, no time zone but UTC), so every format prints the same figures.
enum ReportText {
    /// `1,234,567`.
    static func count(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        out.reserveCapacity(digits.count + digits.count / 3 + 1)
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// Basis points as a percentage with two decimals and no sign: `1234` → `12.34`.
    static func percent(basisPoints bp: Int64) -> String {
        let frac = bp % 100
        return "\(bp / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    /// Tenths of a percent as a decimal with one decimal and a minus sign when negative: `-15` → `-1.5`,
    /// `2` → `0.2` (the JSON and CSV form of a drift percentage).
    static func perMille(_ tenths: Int64) -> String {
        "\(tenths < 0 ? "-" : "")\(tenths.magnitude / 10).\(tenths.magnitude % 10)"
    }

    /// The same for people, with the sign always shown unless zero: `+0.2`, `-1.5`, `0.0`.
    static func signedPerMille(_ tenths: Int64) -> String { (tenths > 0 ? "+" : "") + perMille(tenths) }

    /// A difference of counts with its sign: `+1,234`, `-5`, `0`.
    static func signedCount(_ n: Int64) -> String { (n > 0 ? "+" : "") + count(n) }

    /// The exact amount with `$` and at least two decimals: `$12.50`, `$0.000000150`→`$0.00000015`.
    static func usd(_ m: Money) -> String { m.description }

    /// `YYYY-MM-DD` of `date` in UTC.
    static func day(_ date: Date) -> String {
        let c = civil(date)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of `date` in UTC (seconds rounded down).
    static func timestamp(_ date: Date) -> String {
        let c = civil(date)
        return "\(day(date))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    /// What the report covers, for people: `complete`, `partial: runs to 2025-06-15 12:00 UTC`, or
    /// `not started`.
    static func coverage(_ coverage: MonthlyReport.Coverage) -> String {
        switch coverage {
        case .complete: "complete month"
        case .partial(let through): "partial: month in progress, data to \(timestamp(through))"
        case .notStarted: "not started: the month has not begun"
        }
    }

    /// `n` in decimal, left-padded with zeros to `width` digits.
    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// The UTC calendar fields of `date` (proleptic Gregorian; Howard Hinnant's `civil_from_days`).
    static func civil(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var days = ms / 86_400_000
        var rest = ms % 86_400_000
        if rest < 0 { rest += 86_400_000; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        let seconds = rest / 1000
        return (Int(y), Int(m), Int(d), Int(seconds / 3600), Int(seconds % 3600 / 60), Int(seconds % 60))
    }

    /// One row of the drift table, in the column order the table and HTML renderers share: requests counted
    /// (of `requests`), local, provider and difference for the prompt, its percent, then the same for the
    /// completion; `missing` stands for a percent that has no meaning (a local count of 0).
    static func driftCells(_ d: TokenDrift, of requests: Int64, missing: String) -> [String] {
        ["\(count(d.requests)) of \(count(requests))",
         count(d.localPromptTokens), count(d.providerPromptTokens),
         signedCount(d.promptTokens), d.promptPerMille.map { signedPerMille($0) + "%" } ?? missing,
         count(d.localCompletionTokens), count(d.providerCompletionTokens),
         signedCount(d.completionTokens), d.completionPerMille.map { signedPerMille($0) + "%" } ?? missing]
    }
}

