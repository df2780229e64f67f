import TokenMeterLedger
import TokenMeterMoney

/// Renders a ``MonthlyReport`` as one self-contained HTML file: inline CSS and SVG charts (daily cost
/// stacked by user, cost by model, budget use against the limit), summary cards, and tables of users,
/// models, drift (provider against local counts) and days with every figure exact. No script, no external resource, so it opens offline, mails
/// as an attachment and prints (A4, colours kept). The markup is well-formed XML (void elements closed,
/// every attribute quoted, all user-provided text escaped), which the tests check by parsing it.
public enum HTMLReportRenderer {
    /// The HTML document.
    public static func render(_ report: MonthlyReport) -> String {
        let title = "TokenMeter usage report \(report.period)" + (report.userFilter.map { " for \($0)" } ?? "")
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <meta name="generator" content="TokenMeter"/>
            <title>\(HTMLText.escape(title))</title>
            <style>
            \(ReportStyle.css)
            </style>
            </head>
            <body>
            <main>

            """
        html += body(report, title: title) + "\n"
        html += """
            </main>
            </body>
            </html>

            """
        return html
    }

    /// The report's content (heading, cards, charts, tables, footer) without the document around it: the
    /// console shows it inside its own page, with ``styleSheet``.
    public static func body(_ report: MonthlyReport, title: String? = nil) -> String {
        let title = title ?? "TokenMeter usage report \(report.period)" + (report.userFilter.map { " for \($0)" } ?? "")
        var html = ""
        html += header(report, title: title)
        html += cards(report)
        html += panel("Daily cost by user (UTC days)", DailyCostChart.html(report))
        html += "<div class=\"columns\">"
        html += panel("Cost by model", ModelCostChart.html(report))
        html += panel("Monthly budget used", BudgetUseChart.html(report))
        html += "</div>\n"
        html += panel("Users", usersTable(report), tablePanel: true)
        if !report.models.isEmpty {
            html += panel("Models", modelsTable(report), tablePanel: true)
            html += panel("Drift: provider against local counts", drift(report), tablePanel: true)
        }
        if !report.isEmpty { html += panel("Days", daysTable(report), tablePanel: true) }
        html += panel("Where the counts come from", sources(report.totals))
        html += """
            <footer>Generated \(ReportText.timestamp(report.generatedAt)) by TokenMeter. Amounts are exact USD \
            from the usage ledger; months and days are UTC; only settled requests are counted. Budgets are the \
            limits in force when the report was made.</footer>
            """
        return html
    }

    /// The style sheet the report's markup needs.
    public static var styleSheet: String { ReportStyle.css }

    /// The daily cost chart (bars stacked by user) alone.
    public static func dailyCostChart(_ report: MonthlyReport) -> String { DailyCostChart.html(report) }

    /// The cost-by-model chart alone.
    public static func modelCostChart(_ report: MonthlyReport) -> String { ModelCostChart.html(report) }

    private static func header(_ report: MonthlyReport, title: String) -> String {
        let coverage = report.coverage
        let badge: String
        switch coverage {
        case .complete: badge = "complete month"
        case .partial(let through): badge = "partial: to \(ReportText.day(through))"
        case .notStarted: badge = "not started"
        }
        let note: String
        switch coverage {
        case .complete: note = ""
        case .partial(let through): note = " The month is in progress: figures run to \(ReportText.timestamp(through)) and will grow."
        case .notStarted: note = " The month has not begun."
        }
        return """
            <header><h1>\(HTMLText.escape(title))<span class="badge \(coverage.name)">\(badge)</span></h1>
            <p>Calendar month \(ReportText.day(report.period.start)) to \
            \(ReportText.day(report.period.end.addingTimeInterval(-1))), UTC.\(note)</p></header>

            """
    }

    private static func cards(_ report: MonthlyReport) -> String {
        let t = report.totals
        let active = report.users.filter { !$0.totals.isEmpty }.count
        // Exact amounts can be long (up to 12 decimals): their cards take two columns.
        let items = [
            ("Total cost", ReportText.usd(t.cost), true), ("Requests", ReportText.count(t.requests), false),
            ("Billed tokens", ReportText.count(t.billedTokens), false),
            ("Users with usage", ReportText.count(Int64(active)), false),
            ("Cut by budget", ReportText.count(t.outcomes.cutByBudget), false),
            ("Of which estimated", ReportText.usd(t.estimatedCost), true), ("Overruns", ReportText.usd(t.overrun), true),
        ]
        return "<section class=\"cards\">" + items.map { label, value, wide in
            "<div class=\"card\(wide ? " wide" : "")\"><div class=\"label\">\(label)</div>"
                + "<div class=\"value\">\(value)</div></div>"
        }.joined() + "</section>\n"
    }

    private static func panel(_ title: String, _ body: String, tablePanel: Bool = false) -> String {
        "<section class=\"panel\(tablePanel ? " table-panel" : "")\"><h2>\(title)</h2>\(body)</section>\n"
    }

    private static let usageHeads = ["Requests", "Prompt", "Completion", "Cached", "Reasoning", "Billed tokens", "Cost",
                                     "Estimated completion", "Estimated cost", "Overrun"]
    private static let outcomeHeads = ["Cut by budget", "Cancelled", "Upstream failed", "Interrupted"]

    private static func usageCells(_ t: UsageTotals) -> [String] {
        [ReportText.count(t.requests), ReportText.count(t.promptTokens), ReportText.count(t.completionTokens),
         t.cachedTokens.map(ReportText.count) ?? "–", t.reasoningTokens.map(ReportText.count) ?? "–",
         ReportText.count(t.billedTokens), ReportText.usd(t.cost),
         ReportText.count(t.estimatedCompletionTokens), ReportText.usd(t.estimatedCost), ReportText.usd(t.overrun)]
    }

    private static func outcomeCells(_ o: OutcomeCounts) -> [String] {
        [o.cutByBudget, o.clientCancelled, o.upstreamError, o.interrupted].map(ReportText.count)
    }

    /// A table: `text` columns first (left-aligned, escaped), then numeric ones (right-aligned).
    private static func table(text: [String], numbers: [String], rows: [(cssClass: String?, text: [String], numbers: [String])],
                              footer: (text: [String], numbers: [String])?) -> String {
        func row(_ tag: String, _ text: [String], _ numbers: [String], _ cssClass: String? = nil) -> String {
            let open = cssClass.map { "<tr class=\"\($0)\">" } ?? "<tr>"
            return open + text.map { "<\(tag)>\(HTMLText.escape($0))</\(tag)>" }.joined()
                + numbers.map { "<\(tag) class=\"num\">\(HTMLText.escape($0))</\(tag)>" }.joined() + "</tr>"
        }
        var html = "<div class=\"scroll\"><table><thead>" + row("th", text, numbers) + "</thead><tbody>"
        for r in rows { html += row("td", r.text, r.numbers, r.cssClass) + "\n" }
        html += "</tbody>"
        if let footer { html += "<tfoot>" + row("td", footer.text, footer.numbers) + "</tfoot>" }
        return html + "</table></div>"
    }

    private static func usersTable(_ report: MonthlyReport) -> String {
        guard !report.users.isEmpty else { return "<p class=\"empty\">No users.</p>" }
        let rows = report.users.map { u in
            let used = u.costLimitUsedBasisPoints.map { ReportText.percent(basisPoints: $0) + "%" } ?? "–"
            return (cssClass: u.user.status == .disabled ? "disabled" : nil,
                    text: [u.user.name + (u.user.status == .disabled ? " (disabled)" : "")],
                    numbers: usageCells(u.totals) + [u.budget.monthlyLimit.map(ReportText.usd) ?? "none", used]
                        + outcomeCells(u.totals.outcomes))
        }
        return table(text: ["User"], numbers: usageHeads + ["Monthly limit", "Used"] + outcomeHeads,
                     rows: rows as [(cssClass: String?, text: [String], numbers: [String])],
                     footer: (["Total"], usageCells(report.totals) + ["", ""] + outcomeCells(report.totals.outcomes)))
    }

    private static func modelsTable(_ report: MonthlyReport) -> String {
        table(text: ["Model"], numbers: usageHeads + outcomeHeads,
              rows: report.models.map { (cssClass: nil, text: [$0.model], numbers: usageCells($0.totals) + outcomeCells($0.totals.outcomes)) },
              footer: (["Total"], usageCells(report.totals) + outcomeCells(report.totals.outcomes)))
    }

    /// Per model with provider counts: local and provider counts over the same requests, the difference and its
    /// percentage of the local count; then a note naming the models the provider never counted (no drift figure).
    private static func drift(_ report: MonthlyReport) -> String {
        guard let total = report.totals.drift else {
            return "<p class=\"empty\">The provider counted no request, so there is no drift figure.</p>"
        }
        func numbers(_ d: TokenDrift, of requests: Int64) -> [String] { ReportText.driftCells(d, of: requests, missing: "–") }
        let counted = report.models.compactMap { m in m.totals.drift.map { (model: m.model, drift: $0, requests: m.totals.requests) } }
        let uncounted = report.models.filter { $0.totals.drift == nil }.map(\.model)
        var html = table(
            text: ["Model"],
            numbers: ["Requests counted", "Local prompt", "Provider prompt", "Prompt drift", "Prompt drift %",
                      "Local completion", "Provider completion", "Completion drift", "Completion drift %"],
            rows: counted.map { (cssClass: nil, text: [$0.model], numbers: numbers($0.drift, of: $0.requests)) },
            footer: (["Total"], numbers(total, of: report.totals.requests)))
        html += "<p class=\"note\">Drift is the provider's count minus TokenMeter's, over the requests the provider "
            + "counted; the percentage is of TokenMeter's count (– when that is 0).</p>"
        if !uncounted.isEmpty {
            html += "<p class=\"note\">No provider counts, so no drift figure (not 0%): "
                + "\(uncounted.map(HTMLText.escape).joined(separator: "; ")).</p>"
        }
        return html
    }

    private static func daysTable(_ report: MonthlyReport) -> String {
        table(text: ["Date"], numbers: ["Requests", "Billed tokens", "Cost"],
              rows: report.days.map { d in
                  (cssClass: nil, text: [ReportText.day(d.date)],
                   numbers: [ReportText.count(d.totals.requests), ReportText.count(d.totals.billedTokens),
                             ReportText.usd(d.totals.cost)])
              },
              footer: (["Total"], [ReportText.count(report.totals.requests), ReportText.count(report.totals.billedTokens),
                                   ReportText.usd(report.totals.cost)]))
    }

    private static func sources(_ t: UsageTotals) -> String {
        let p = t.billedByProvider, l = t.billedLocally
        let cached = t.cachedTokens.map(ReportText.count) ?? "not reported"
        let reasoning = t.reasoningTokens.map(ReportText.count) ?? "not reported"
        return """
            <dl class="sources">
            <dt>Counted locally</dt><dd>Prompt and completion tokens, for every request: \
            \(ReportText.count(t.promptTokens)) prompt, \(ReportText.count(t.completionTokens)) completion.</dd>
            <dt>Reported by the provider</dt><dd>\(ReportText.count(t.providerReportedRequests)) of \
            \(ReportText.count(t.requests)) requests: \(ReportText.count(t.providerPromptTokens)) prompt, \
            \(ReportText.count(t.providerCompletionTokens)) completion; cached \(cached); reasoning \(reasoning).</dd>
            <dt>Billed from provider counts</dt><dd>\(ReportText.count(p.requests)) requests, \
            \(ReportText.count(p.billedTokens)) tokens, \(ReportText.usd(p.cost))</dd>
            <dt>Billed from local counts</dt><dd>\(ReportText.count(l.requests)) requests, \
            \(ReportText.count(l.billedTokens)) tokens, \(ReportText.usd(l.cost))</dd>
            <dt>Estimated</dt><dd>\(ReportText.usd(t.estimatedCost)) of the cost, for \
            \(ReportText.count(t.estimatedCompletionTokens)) completion tokens that are an estimate, not a count (hidden \
            reasoning tokens of streams that ended without the provider's usage).</dd>
            <dt>Overruns</dt><dd>\(ReportText.usd(t.overrun)) of the cost was billed above the requests' holds.</dd>
            </dl>
            """
    }
}
