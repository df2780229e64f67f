import Foundation

/// A calendar month in UTC, the period of every monthly limit and report.
///
/// Settled usage counts in the month its request *ended* (when its cost became known); a live
/// reservation counts in the current month while it is open.
public struct BillingPeriod: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Four-digit year, e.g. 2025.
    public let year: Int
    /// Month of the year, 1...12.
    public let month: Int

    /// The month `year`-`month`; returns nil for a month outside 1...12 or a year outside 1970...9999.
    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1970...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// The UTC month that contains `date`.
    public init(containing date: Date) {
        let c = Self.calendar.dateComponents([.year, .month], from: date)
        self.year = c.year!
        self.month = c.month!
    }

    /// Parses `YYYY-MM` (as in `GET /v1/usage?month=2025-06`).
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]) else { return nil }
        self.init(year: y, month: m)
    }

    /// First instant of the month (inclusive), 00:00:00 UTC on day 1.
    public var start: Date {
        Self.calendar.date(from: DateComponents(year: year, month: month, day: 1))!
    }

    /// First instant of the next month (exclusive end of this one).
    public var end: Date { next.start }

    /// The following month.
    public var next: BillingPeriod {
        month == 12 ? BillingPeriod(year: year + 1, month: 1)! : BillingPeriod(year: year, month: month + 1)!
    }

    /// `YYYY-MM`, the same text the schema stores in `monthly_usage.period`.
    public var description: String {
        let m = month < 10 ? "0\(month)" : "\(month)"
        return "\(year)-\(m)"
    }

    public static func < (a: BillingPeriod, b: BillingPeriod) -> Bool {
        (a.year, a.month) < (b.year, b.month)
    }

    private static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()
}
