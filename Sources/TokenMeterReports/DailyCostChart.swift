import TokenMeterLedger
import TokenMeterMoney

/// The HTML report's first chart: cost per UTC day as vertical bars, stacked by user (the seven users
/// who spent most in the month, then "other users"), with a dollar axis and a legend. Inline SVG, no
/// script; each segment has a `<title>` with the exact amount.
enum DailyCostChart {
    /// How many users get their own colour before the rest are grouped.
    static let namedUsers = 7

    private static let width: Int64 = 760, height: Int64 = 280
    private static let left: Int64 = 78, right: Int64 = 8, top: Int64 = 12, bottom: Int64 = 28

    /// The figure (SVG and legend) for `report`, or a note when there is nothing to draw.
    static func html(_ report: MonthlyReport) -> String {
        guard !report.isEmpty, !report.days.isEmpty else {
            return "<p class=\"empty\">No usage was settled in \(report.period), so there is nothing to chart.</p>"
        }
        let series = Series(report)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let scale = ChartScale(fitting: report.days.map(\.totals.cost.picoUSD).max() ?? 0)
        var svg = """
            <div class="chart-scroll"><svg class="chart daily" viewBox="0 0 \(width) \(height)" role="img" \
            aria-labelledby="daily-title" \
            xmlns="http://www.w3.org/2000/svg"><title id="daily-title">Daily cost in \(report.period), \
            stacked by user</title>
            """
        for tick in scale.ticks {
            let y = (top + plotHeight) * 10 - scale.tenths(tick, span: plotHeight)
            svg += "<line class=\"grid\" x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(ChartScale.svg(y))\" "
                + "y2=\"\(ChartScale.svg(y))\"/>"
            svg += "<text class=\"axis\" x=\"\(left - 6)\" y=\"\(ChartScale.svg(y + 35))\" text-anchor=\"end\">"
                + "\(HTMLText.escape(Money(picoUSD: tick).description))</text>"
        }
        let slot = plotWidth * 10 / Int64(report.days.count)
        let barWidth = max(slot * 7 / 10, 10)
        for (index, day) in report.days.enumerated() {
            let x = left * 10 + Int64(index) * slot + (slot - barWidth) / 2
            var cumulative: Int64 = 0
            for (seriesIndex, cost) in series.costs(of: day).enumerated() where cost > 0 {
                let y0 = scale.tenths(cumulative, span: plotHeight)
                cumulative += cost
                let y1 = scale.tenths(cumulative, span: plotHeight)
                guard y1 > y0 else { continue }
                let name = series.names[seriesIndex]
                svg += "<rect x=\"\(ChartScale.svg(x))\" y=\"\(ChartScale.svg((top + plotHeight) * 10 - y1))\" "
                    + "width=\"\(ChartScale.svg(barWidth))\" height=\"\(ChartScale.svg(y1 - y0))\" "
                    + "fill=\"\(series.colors[seriesIndex])\"><title>\(HTMLText.escape(name)), "
                    + "\(ReportText.day(day.date)): \(Money(picoUSD: cost))</title></rect>"
            }
            // Day numbers under the 1st, every 5th and the last day (unless it would crowd the 5th before it).
            let isLast = index == report.days.count - 1
            if day.dayOfMonth == 1 || day.dayOfMonth % 5 == 0 || report.days.count <= 10
                || (isLast && day.dayOfMonth % 5 >= 3) {
                svg += "<text class=\"axis\" x=\"\(ChartScale.svg(x + barWidth / 2))\" "
                    + "y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(day.dayOfMonth)</text>"
            }
        }
        svg += "<line class=\"baseline\" x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(top + plotHeight)\" "
            + "y2=\"\(top + plotHeight)\"/></svg></div>"
        let legend = zip(series.names, series.colors).map { name, color in
            "<li><span class=\"swatch\" style=\"background:\(color)\"></span>\(HTMLText.escape(name))</li>"
        }.joined()
        return svg + "<ul class=\"legend\">\(legend)</ul>"
    }

    /// The stacked series: the top spenders by name, then everyone else as one series.
    private struct Series {
        var names: [String] = []
        var colors: [String] = []
        /// User id → series index.
        private var index: [Int64: Int] = [:]
        private var otherIndex: Int?

        init(_ report: MonthlyReport) {
            let spenders = report.users.filter { $0.totals.cost > .zero }
                .sorted { ($0.totals.cost, $1.user.name) > ($1.totals.cost, $0.user.name) }
            let named = spenders.count <= DailyCostChart.namedUsers + 1 ? spenders
                : Array(spenders.prefix(DailyCostChart.namedUsers))
            for (i, u) in named.enumerated() {
                index[u.user.id] = i
                names.append(u.user.name)
                colors.append(ChartPalette.color(i))
            }
            if named.count < spenders.count {
                otherIndex = names.count
                names.append("other users (\(spenders.count - named.count))")
                colors.append(ChartPalette.other)
            }
        }

        /// The day's cost per series, in pico-USD.
        func costs(of day: MonthlyReport.DailyUsage) -> [Int64] {
            var costs = [Int64](repeating: 0, count: names.count)
            for share in day.users {
                guard let i = index[share.userID] ?? otherIndex else { continue }
                costs[i] += share.cost.picoUSD
            }
            return costs
        }
    }
}
