import Foundation
import TokenMeterLedger
import TokenMeterMoney

/// Text for people: dates, counts and budgets.
enum Formatting {
    /// `2025-06-15T12:00:00Z`.
    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// `1,234,567`.
    static func count(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// `$12.50 per month, 1,000,000 tokens per month, at most $0.25 per request`, or `no limits`.
    static func budget(_ b: Budget) -> String {
        var parts: [String] = []
        if let m = b.monthlyLimit { parts.append("\(m) per month") }
        if let t = b.monthlyTokenLimit { parts.append("\(count(t)) tokens per month") }
        if let r = b.maxRequestCost { parts.append("at most \(r) per request") }
        return parts.isEmpty ? "no limits" : parts.joined(separator: ", ")
    }

    /// A money limit, or `unlimited`.
    static func limit(_ m: Money?) -> String { m.map(\.description) ?? "unlimited" }

    /// A token limit, or `unlimited`.
    static func limit(_ t: Int64?) -> String { t.map(count) ?? "unlimited" }
}
