/// A non-negative decimal factor held as an exact fraction (`"1.62"` is 162/100), for multipliers
/// such as the image-token factors of patch models. Never a `Double`.
public struct ExactRatio: Sendable, Hashable, CustomStringConvertible {
    /// Numerator of the fraction.
    public let numerator: Int
    /// Denominator, a power of ten (1, 10, 100, ...).
    public let denominator: Int

    /// Parses a plain decimal such as `"1.62"` or `"2"` (at most 6 decimals, at most 1,000,000).
    public init?(decimal text: String) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], frac = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty, whole.count <= 7, frac.count <= 6, !(parts.count == 2 && frac.isEmpty),
              (whole + frac).allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int(whole + frac) else { return nil }
        var den = 1
        for _ in 0..<frac.count { den *= 10 }
        numerator = value
        denominator = den
    }

    /// `ceil(count × ratio)` in integer arithmetic. Rounding up is TokenMeter's rule for every
    /// fractional token count: a pre-flight estimate must not come out below what is billed.
    public func multiplyRoundingUp(_ count: Int) -> Int {
        (count * numerator + denominator - 1) / denominator
    }

    /// The decimal text, e.g. `"1.62"`.
    public var description: String {
        guard denominator > 1 else { return String(numerator) }
        let digits = String(denominator).count - 1
        var frac = String(numerator % denominator)
        frac = String(repeating: "0", count: digits - frac.count) + frac
        return "\(numerator / denominator).\(frac)"
    }
}
