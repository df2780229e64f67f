/// An exact amount of US dollars, stored as a whole number of pico-dollars (1 USD = 10^12 pUSD).
///
/// This is TokenMeter's only money unit. Every OpenAI price in the catalog is a whole number of
/// pico-dollars per token (the smallest, $0.005 per 1M tokens, is 5,000 pUSD per token), so a cost is
/// `tokens × price` in integers: no rounding happens anywhere, and a sum of records equals the record
/// of the sum. The range of `Int64` is ±$9,223,372 with pico-dollar resolution; arithmetic traps on
/// overflow rather than wrapping, and the checked operations report it instead.
///
/// Text form: `"$0.00000015"`, `"12.5"` or `"-3"` parse exactly (up to 12 decimals); `description`
/// prints `$` and as many decimals as the value needs, at least two (`$0.00000015`, `$12.50`).
public struct Money: Sendable, Hashable, Comparable, Codable {
    /// Pico-dollars per dollar.
    public static let picoPerDollar: Int64 = 1_000_000_000_000

    /// The amount in pico-dollars (10^-12 USD).
    public var picoUSD: Int64

    /// An amount of `picoUSD` pico-dollars.
    public init(picoUSD: Int64) { self.picoUSD = picoUSD }

    /// A whole number of dollars; traps if it does not fit (over ±9.2 million).
    public init(dollars: Int64) { self.picoUSD = dollars * Money.picoPerDollar }

    public static let zero = Money(picoUSD: 0)

    public static func < (a: Money, b: Money) -> Bool { a.picoUSD < b.picoUSD }
    public static func + (a: Money, b: Money) -> Money { Money(picoUSD: a.picoUSD + b.picoUSD) }
    public static func - (a: Money, b: Money) -> Money { Money(picoUSD: a.picoUSD - b.picoUSD) }
    public static func += (a: inout Money, b: Money) { a.picoUSD += b.picoUSD }
    public static func -= (a: inout Money, b: Money) { a.picoUSD -= b.picoUSD }
    public static prefix func - (a: Money) -> Money { Money(picoUSD: -a.picoUSD) }

    /// `self + other`, or nil when the result does not fit in `Int64` pico-dollars.
    public func adding(_ other: Money) -> Money? {
        let (v, overflow) = picoUSD.addingReportingOverflow(other.picoUSD)
        return overflow ? nil : Money(picoUSD: v)
    }

    /// The cost of `tokens` tokens at this price per token, or nil on overflow.
    public func times(_ tokens: Int) -> Money? {
        let (v, overflow) = picoUSD.multipliedReportingOverflow(by: Int64(tokens))
        return overflow ? nil : Money(picoUSD: v)
    }

    /// How many whole tokens at `self` per token fit in `budget` (rounded down); nil when the price
    /// is zero or negative (then any number fits).
    public func tokensAffordable(with budget: Money) -> Int? {
        guard picoUSD > 0 else { return nil }
        return budget.picoUSD <= 0 ? 0 : Int(budget.picoUSD / picoUSD)
    }

    public init(from decoder: any Decoder) throws {
        picoUSD = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(picoUSD)
    }
}
