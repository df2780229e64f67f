import TokenMeterLedger
import TokenMeterMoney

/// The HTML report's budget chart: for each user with a monthly USD limit (the fifteen closest to or
/// over it), a bar of the month's cost against a dashed line at the limit; green under 80 %, amber up to
/// 100 %, red over. Inline SVG, no script.
enum BudgetUseChart {
    /// How many users get a bar.
    static let shownUsers = 15

    private static let width: Int64 = 560, rowHeight: Int64 = 28, labelWidth: Int64 = 130, trackSpan: Int64 = 270

    /// The SVG and a caption for `report`, or a note when no user has a monthly USD limit.
    static func html(_ report: MonthlyReport) -> String {
        let limited = report.users.compactMap { u in u.costLimitUsedBasisPoints.map { (user: u, used: $0) } }
            .sorted { ($0.used, $1.user.user.name) > ($1.used, $0.user.user.name) }
        let unlimited = report.users.count - limited.count
        guard !limited.isEmpty else {
            return "<p class=\"empty\">No user has a monthly USD limit.</p>"
        }
        let shown = limited.prefix(shownUsers)
        // The axis shows at least 100 % and at most 200 %, in steps of 25 %.
        let highest = min(shown.map(\.used).max() ?? 0, 20_000)
        let axisTop = max(10_000, (highest + 2_499) / 2_500 * 2_500)
        let scale = ChartScale(fitting: axisTop, ticks: axisTop / 2_500)
        let height = Int64(shown.count) * rowHeight + 24
        let limitX = labelWidth * 10 + scale.tenths(10_000, span: trackSpan)
        var svg = """
            <div class="chart-scroll"><svg class="chart" viewBox="0 0 \(width) \(height)" role="img" aria-labelledby="budget-title" \
            xmlns="http://www.w3.org/2000/svg"><title id="budget-title">Monthly budget used per user in \
            \(report.period)</title>
            """
        for (i, row) in shown.enumerated() {
            let y = Int64(i) * rowHeight + 4
            let length = scale.tenths(row.used, span: trackSpan)
            let color = row.used > 10_000 ? "#c0392b" : row.used >= 8_000 ? "#d68910" : "#1e8449"
            let limit = row.user.budget.monthlyLimit ?? .zero
            let name = row.user.user.name + (row.user.user.status == .disabled ? " (disabled)" : "")
            svg += "<text class=\"label\" x=\"\(labelWidth - 8)\" y=\"\(y + 18)\" text-anchor=\"end\">"
                + "\(HTMLText.escape(HTMLText.truncated(name, to: 18)))</text>"
            svg += "<rect class=\"track\" x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(trackSpan)\" "
                + "height=\"\(rowHeight - 8)\" rx=\"2\"/>"
            if length > 0 {
                svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(ChartScale.svg(length))\" "
                    + "height=\"\(rowHeight - 8)\" rx=\"2\" fill=\"\(color)\"><title>\(HTMLText.escape(row.user.user.name)): "
                    + "\(row.user.totals.cost) of \(limit)</title></rect>"
            }
            svg += "<text class=\"value\" x=\"\(labelWidth + trackSpan + 8)\" y=\"\(y + 18)\">"
                + "\(ReportText.percent(basisPoints: row.used))% of \(limit)</text>"
        }
        let bottom = Int64(shown.count) * rowHeight + 4
        svg += "<line class=\"limit\" x1=\"\(ChartScale.svg(limitX))\" x2=\"\(ChartScale.svg(limitX))\" y1=\"0\" "
            + "y2=\"\(bottom)\"/><text class=\"axis\" x=\"\(ChartScale.svg(limitX))\" y=\"\(bottom + 14)\" "
            + "text-anchor=\"middle\">limit</text></svg></div>"
        var caption: [String] = []
        if limited.count > shown.count { caption.append("\(limited.count - shown.count) more users with a limit are in the table.") }
        if unlimited > 0 { caption.append("\(unlimited) user\(unlimited == 1 ? " has" : "s have") no monthly USD limit.") }
        return svg + (caption.isEmpty ? "" : "<p class=\"note\">\(caption.joined(separator: " "))</p>")
    }
}
