import TokenMeterLedger
import TokenMeterMoney

/// The HTML report's cost-by-model chart: one horizontal bar per model (the twelve costliest, then
/// "other models"), labelled with the exact cost. Inline SVG, no script.
enum ModelCostChart {
    /// How many models get their own bar.
    static let namedModels = 12

    private static let width: Int64 = 560, rowHeight: Int64 = 28, labelWidth: Int64 = 170, barSpan: Int64 = 250

    /// The SVG for `report`, or a note when no model has a cost.
    static func html(_ report: MonthlyReport) -> String {
        var rows = report.models.filter { $0.totals.cost > .zero }
            .sorted { ($0.totals.cost, $1.model) > ($1.totals.cost, $0.model) }
            .map { (name: $0.model, cost: $0.totals.cost) }
        guard !rows.isEmpty else { return "<p class=\"empty\">No model has a cost in \(report.period).</p>" }
        if rows.count > namedModels + 1 {
            let rest = rows[namedModels...]
            let restCost = rest.reduce(Money.zero) { $0 + $1.cost }
            rows = Array(rows.prefix(namedModels)) + [(name: "other models (\(rest.count))", cost: restCost)]
        }
        let scale = ChartScale(fitting: rows[0].cost.picoUSD)
        let height = Int64(rows.count) * rowHeight + 8
        var svg = """
            <div class="chart-scroll"><svg class="chart" viewBox="0 0 \(width) \(height)" role="img" aria-labelledby="model-title" \
            xmlns="http://www.w3.org/2000/svg"><title id="model-title">Cost by model in \(report.period)</title>
            """
        for (i, row) in rows.enumerated() {
            let y = Int64(i) * rowHeight + 4
            let length = max(scale.tenths(row.cost.picoUSD, span: barSpan), 10)
            svg += "<text class=\"label\" x=\"\(labelWidth - 8)\" y=\"\(y + 18)\" text-anchor=\"end\">"
                + "\(HTMLText.escape(HTMLText.truncated(row.name, to: 24)))<title>\(HTMLText.escape(row.name))</title></text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(ChartScale.svg(length))\" height=\"\(rowHeight - 8)\" "
                + "rx=\"2\" fill=\"\(ChartPalette.color(0))\"><title>\(HTMLText.escape(row.name)): \(row.cost)</title></rect>"
            svg += "<text class=\"value\" x=\"\(ChartScale.svg(labelWidth * 10 + length + 60))\" y=\"\(y + 18)\">"
                + "\(row.cost)</text>"
        }
        return svg + "</svg></div>"
    }
}
