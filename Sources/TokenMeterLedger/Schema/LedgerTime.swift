import Foundation

/// The schema stores instants as whole milliseconds since 1970-01-01 UTC (`*_at` columns).
extension Date {
    /// This instant in whole milliseconds since 1970 UTC (rounded down).
    var ledgerMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The instant `milliseconds` after 1970-01-01 UTC.
    init(ledgerMilliseconds milliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }
}

extension Duration {
    /// The duration in whole ledger milliseconds (rounded down).
    var ledgerMilliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
