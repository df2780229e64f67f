/// Why a money string was refused by `Money(parsing:)`.
public enum MoneyParseError: Error, Equatable, CustomStringConvertible {
    case empty
    case invalidCharacter(String)
    case tooManyDecimals(String)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .empty: "empty amount"
        case .invalidCharacter(let s): "'\(s)' is not a decimal amount of USD (expected e.g. 12.50 or $0.000002)"
        case .tooManyDecimals(let s): "'\(s)' has more than 12 decimals (the smallest unit is 1 pico-dollar)"
        case .outOfRange(let s): "'\(s)' is out of range (at most ±9,223,372 USD)"
        }
    }
}

extension Money: CustomStringConvertible, LosslessStringConvertible {
    /// Parses a decimal amount of dollars exactly: `"12.50"`, `"$0.00000015"`, `"-3"`, `"1_000"` is refused.
    public init(parsing text: String) throws(MoneyParseError) {
        self = try Money.parse(text, scale: 12)
    }

    public init?(_ description: String) {
        guard let m = try? Money(parsing: description) else { return nil }
        self = m
    }

    /// A price written per million tokens ("2.50" USD per 1M), converted to pico-dollars per token.
    /// Exact when the figure has at most 6 decimals, which is every published price; more is refused.
    public init(perMillionTokens text: String) throws(MoneyParseError) {
        self = try Money.parse(text, scale: 6)
    }

    /// Parses `text` as a decimal with at most `scale` fractional digits into units of 10^-scale.
    private static func parse(_ text: String, scale: Int) throws(MoneyParseError) -> Money {
        var s = Substring(text.trimmingWhitespace())
        guard !s.isEmpty else { throw .empty }
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        if s.first == "$" { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], frac = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && frac.isEmpty),
              whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              frac.allSatisfy({ $0.isASCII && $0.isNumber }),
              !(parts.count > 1 && frac.isEmpty) else { throw .invalidCharacter(text) }
        guard frac.count <= scale else { throw .tooManyDecimals(text) }
        var value: Int64 = 0
        for ch in whole + frac + String(repeating: "0", count: scale - frac.count) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(ch.asciiValue! - 48))
            guard !o1, !o2 else { throw .outOfRange(text) }
            value = a
        }
        return Money(picoUSD: negative ? -value : value)
    }

    /// `$` followed by the exact amount, with at least two decimals and no trailing zeros beyond them:
    /// `$12.50`, `$0.00000015`, `-$3.00`.
    public var description: String { formatted(minimumDecimals: 2) }

    /// The exact amount with at least `minimumDecimals` decimals (0...12), prefixed by `$`.
    public func formatted(minimumDecimals: Int = 2, symbol: String = "$") -> String {
        let magnitude = picoUSD.magnitude
        let whole = magnitude / UInt64(Money.picoPerDollar)
        var frac = String(magnitude % UInt64(Money.picoPerDollar))
        frac = String(repeating: "0", count: 12 - frac.count) + frac
        while frac.count > minimumDecimals, frac.last == "0" { frac.removeLast() }
        let sign = picoUSD < 0 ? "-" : ""
        return frac.isEmpty ? "\(sign)\(symbol)\(whole)" : "\(sign)\(symbol)\(whole).\(frac)"
    }

    /// The exact amount as a plain decimal string without a symbol (`"0.00000015"`), for JSON and CSV.
    public var decimalString: String { formatted(minimumDecimals: 2, symbol: "") }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
