import TokenMeterLedger
import TokenMeterMoney

/// Renders a ``MonthlyReport`` for a terminal: a heading, then users, models, drift (provider against local
/// counts, per model) and days as aligned tables (numbers right-aligned, money in exact USD), then which
/// counts came from the provider and which were counted locally.
public enum TableReportRenderer {
    /// The report as text, ending with a newline.
    public static func render(_ report: MonthlyReport) -> String {
        var out = "TokenMeter usage report for \(report.period) (calendar month, UTC)\n"
        out += "Coverage:  \(ReportText.coverage(report.coverage))\n"
        out += "Generated: \(ReportText.timestamp(report.generatedAt))\n"
        if let user = report.userFilter { out += "User:      \(user)\n" }
        out += "Totals:    \(ReportText.count(report.totals.requests)) requests, "
            + "\(ReportText.count(report.totals.billedTokens)) billed tokens, \(ReportText.usd(report.totals.cost))\n"
        out += "Of which:  \(ReportText.usd(report.totals.estimatedCost)) estimated "
            + "(\(ReportText.count(report.totals.estimatedCompletionTokens)) completion tokens), "
            + "\(ReportText.usd(report.totals.overrun)) overrun (billed above holds)\n"
        if report.isEmpty { out += "\nNo requests were settled in \(report.period).\n" }
        if !report.users.isEmpty { out += "\nUSERS\n" + usersTable(report).rendered + "\n" }
        if !report.models.isEmpty {
            out += "\nMODELS\n" + modelsTable(report).rendered + "\n"
            out += "\nDRIFT (provider count - local count, over the requests the provider counted)\n" + drift(report)
        }
        if !report.isEmpty { out += "\nDAILY (UTC)\n" + daysTable(report).rendered + "\n" }
        out += "\n" + sources(report.totals)
        return out
    }

    private static let usageColumns: [(String, AlignedTable.Alignment)] = [
        ("REQUESTS", .right), ("PROMPT", .right), ("COMPLETION", .right), ("CACHED", .right),
        ("REASONING", .right), ("BILLED TOKENS", .right), ("COST", .right),
        ("EST. COMPLETION", .right), ("EST. COST", .right), ("OVERRUN", .right),
    ]
    private static let outcomeColumns: [(String, AlignedTable.Alignment)] = [
        ("CUT BY BUDGET", .right), ("CANCELLED", .right), ("UPSTREAM FAILED", .right), ("INTERRUPTED", .right),
    ]

    private static func usageCells(_ t: UsageTotals) -> [String] {
        [ReportText.count(t.requests), ReportText.count(t.promptTokens), ReportText.count(t.completionTokens),
         t.cachedTokens.map(ReportText.count) ?? "-", t.reasoningTokens.map(ReportText.count) ?? "-",
         ReportText.count(t.billedTokens), ReportText.usd(t.cost),
         ReportText.count(t.estimatedCompletionTokens), ReportText.usd(t.estimatedCost), ReportText.usd(t.overrun)]
    }

    private static func outcomeCells(_ o: OutcomeCounts) -> [String] {
        [o.cutByBudget, o.clientCancelled, o.upstreamError, o.interrupted].map(ReportText.count)
    }

    private static func usersTable(_ report: MonthlyReport) -> AlignedTable {
        var table = AlignedTable([("USER", .left), ("STATUS", .left)] + usageColumns
            + [("MONTHLY LIMIT", .right), ("USED", .right)] + outcomeColumns)
        for u in report.users {
            table.add([u.user.name, u.user.status.rawValue] + usageCells(u.totals) + [
                u.budget.monthlyLimit.map(ReportText.usd) ?? "none",
                u.costLimitUsedBasisPoints.map { ReportText.percent(basisPoints: $0) + "%" } ?? "-",
            ] + outcomeCells(u.totals.outcomes))
        }
        table.addRule()
        table.add(["TOTAL", ""] + usageCells(report.totals) + ["", ""] + outcomeCells(report.totals.outcomes))
        return table
    }

    private static func modelsTable(_ report: MonthlyReport) -> AlignedTable {
        var table = AlignedTable([("MODEL", .left)] + usageColumns + outcomeColumns)
        for m in report.models {
            table.add([m.model.terminalSafe] + usageCells(m.totals) + outcomeCells(m.totals.outcomes))
        }
        table.addRule()
        table.add(["TOTAL"] + usageCells(report.totals) + outcomeCells(report.totals.outcomes))
        return table
    }

    /// Per model with provider counts: local and provider counts over the same requests, their difference and
    /// its percentage of the local count; then the models the provider never counted, which have no drift figure.
    private static func drift(_ report: MonthlyReport) -> String {
        guard let total = report.totals.drift else {
            return "No request was counted by the provider, so there is no drift figure.\n"
        }
        var table = AlignedTable([
            ("MODEL", .left), ("REQUESTS COUNTED", .right), ("LOCAL PROMPT", .right), ("PROVIDER PROMPT", .right),
            ("PROMPT DRIFT", .right), ("PROMPT %", .right), ("LOCAL COMPLETION", .right),
            ("PROVIDER COMPLETION", .right), ("COMPLETION DRIFT", .right), ("COMPLETION %", .right),
        ])
        func cells(_ d: TokenDrift, of requests: Int64) -> [String] { ReportText.driftCells(d, of: requests, missing: "-") }
        var uncounted: [String] = []
        for m in report.models {
            guard let d = m.totals.drift else {
                uncounted.append(m.model.terminalSafe)
                continue
            }
            table.add([m.model.terminalSafe] + cells(d, of: m.totals.requests))
        }
        table.addRule()
        table.add(["TOTAL"] + cells(total, of: report.totals.requests))
        var out = table.rendered + "\n"
        if !uncounted.isEmpty {
            out += "No provider counts, so no drift figure (not 0%): \(uncounted.joined(separator: "; ")).\n"
        }
        return out
    }

    private static func daysTable(_ report: MonthlyReport) -> AlignedTable {
        var table = AlignedTable([("DATE", .left), ("REQUESTS", .right), ("BILLED TOKENS", .right), ("COST", .right)])
        for d in report.days {
            table.add([ReportText.day(d.date), ReportText.count(d.totals.requests),
                       ReportText.count(d.totals.billedTokens), ReportText.usd(d.totals.cost)])
        }
        return table
    }

    /// Which figures are the provider's and which TokenMeter's own.
    private static func sources(_ t: UsageTotals) -> String {
        let p = t.billedByProvider, l = t.billedLocally
        return """
            Counted locally by TokenMeter (every request): PROMPT and COMPLETION.
            Reported by the provider (\(ReportText.count(t.providerReportedRequests)) of \
            \(ReportText.count(t.requests)) requests): \(ReportText.count(t.providerPromptTokens)) prompt and \
            \(ReportText.count(t.providerCompletionTokens)) completion tokens; CACHED and REASONING ("-" where no \
            provider reported them).
            Billed from provider counts: \(ReportText.count(p.requests)) requests, \(ReportText.count(p.billedTokens)) \
            tokens, \(ReportText.usd(p.cost)).
            Billed from local counts:    \(ReportText.count(l.requests)) requests, \(ReportText.count(l.billedTokens)) \
            tokens, \(ReportText.usd(l.cost)).
            EST. COMPLETION and EST. COST: the part of COMPLETION and COST that is an estimate (hidden reasoning \
            tokens of streams that ended without the provider's usage). OVERRUN: the part of COST that bills came \
            to above their request's hold.
            DRIFT compares the provider's counts with TokenMeter's over the requests the provider counted; \
            % is of the local count ("-" when that is 0).

            """
    }
}

extension String {
    /// The text with control characters (escape sequences, line breaks) replaced by `?`, so a model name
    /// cannot move the cursor or break a table row.
    var terminalSafe: String {
        String(String.UnicodeScalarView(unicodeScalars.map {
            $0.properties.generalCategory == .control || $0.properties.generalCategory == .format ? "?" : $0
        }))
    }
}
