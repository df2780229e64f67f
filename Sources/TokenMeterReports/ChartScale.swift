/// A linear axis from 0 to a round maximum, computed in integers (values are pico-USD or counts; no
/// floating point touches money). Lengths come out in tenths of an SVG user unit.
struct ChartScale {
    /// The top of the axis (a multiple of `step`, ≥ the largest value charted).
    let maximum: Int64
    /// The distance between ticks: 1, 2 or 5 times a power of ten.
    let step: Int64

    /// An axis for values up to `largest` with at most `ticks` + 1 intervals of the smallest 1-2-5 step
    /// that fits; a zero or negative `largest` gets the axis 0...`ticks`.
    init(fitting largest: Int64, ticks: Int64 = 4) {
        guard largest > 0 else {
            maximum = ticks
            step = 1
            return
        }
        let intervals = ticks + 1
        let raw = Self.ceilingDivision(largest, intervals)
        var power: Int64 = 1
        while power <= raw / 10 { power *= 10 }
        var chosen = largest
        for multiplier: Int64 in [1, 2, 5, 10] {
            let (candidate, overflow) = power.multipliedReportingOverflow(by: multiplier)
            if !overflow && Self.ceilingDivision(largest, candidate) <= intervals { chosen = candidate; break }
        }
        step = chosen
        let (top, overflow) = step.multipliedReportingOverflow(by: Self.ceilingDivision(largest, step))
        maximum = overflow ? largest : top
    }

    /// ⌈a / b⌉ for a ≥ 0, b > 0, without the overflow of `(a + b - 1) / b`.
    private static func ceilingDivision(_ a: Int64, _ b: Int64) -> Int64 {
        a / b + (a % b == 0 ? 0 : 1)
    }

    /// The tick values from 0 to `maximum`.
    var ticks: [Int64] {
        stride(from: Int64(0), through: maximum, by: Int(step)).map { $0 }
    }

    /// `value`'s length on an axis `span` units long, in tenths of a unit, rounded to nearest; values over
    /// the maximum are clamped to it.
    func tenths(_ value: Int64, span: Int64) -> Int64 {
        let v = min(max(value, 0), maximum)
        let product = v.multipliedFullWidth(by: span * 10)
        let (q, r) = maximum.dividingFullWidth(product)
        return r * 2 >= maximum ? q + 1 : q
    }

    /// Tenths of a unit as SVG number text: `1234` → `123.4`, `50` → `5`.
    static func svg(_ tenths: Int64) -> String {
        let sign = tenths < 0 ? "-" : ""
        let m = tenths.magnitude
        return m % 10 == 0 ? "\(sign)\(m / 10)" : "\(sign)\(m / 10).\(m % 10)"
    }
}
