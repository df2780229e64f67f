import TokenMeterLedger
import TokenMeterMoney

/// Renders a ``MonthlyReport`` as RFC 4180 CSV: a header row, then one row per user-model pair with
/// usage, ordered by user then model; lines end with CRLF. Column names are stable (docs/REPORTS.md);
/// new columns are only ever appended. Money is exact decimal USD without a symbol; unknown figures
/// (cached or reasoning tokens no provider reported, drift where the provider counted no request) are
/// empty cells.
public enum CSVReportRenderer {
    /// The column names, in order.
    public static let columns = [
        "month", "user", "user_status", "model",
        "requests", "prompt_tokens", "completion_tokens",
        "provider_reported_requests", "provider_prompt_tokens", "provider_completion_tokens",
        "cached_tokens", "reasoning_tokens",
        "billed_tokens", "cost_usd",
        "billed_by_provider_requests", "billed_by_provider_tokens", "billed_by_provider_usd",
        "billed_locally_requests", "billed_locally_tokens", "billed_locally_usd",
        "completed", "cut_by_budget", "client_cancelled", "upstream_error", "interrupted",
        "estimated_completion_tokens", "estimated_usd", "overrun_usd",
        "drift_local_prompt_tokens", "drift_local_completion_tokens",
        "prompt_drift_tokens", "prompt_drift_percent", "completion_drift_tokens", "completion_drift_percent",
    ]

    /// The CSV text, header row first, every line ending in CRLF.
    public static func render(_ report: MonthlyReport) -> String {
        let status = Dictionary(uniqueKeysWithValues: report.users.map { ($0.user.id, $0.user.status.rawValue) })
        var out = line(columns)
        for pair in report.userModels {
            let t = pair.totals
            var cells = [report.period.description, pair.userName, status[pair.userID] ?? "", pair.model]
            cells += [t.requests, t.promptTokens, t.completionTokens,
                      t.providerReportedRequests, t.providerPromptTokens, t.providerCompletionTokens].map { String($0) }
            cells += [t.cachedTokens.map { String($0) } ?? "", t.reasoningTokens.map { String($0) } ?? ""]
            cells += [String(t.billedTokens), t.cost.decimalString]
            for share in [t.billedByProvider, t.billedLocally] {
                cells += [String(share.requests), String(share.billedTokens), share.cost.decimalString]
            }
            cells += UsageStatus.allCases.map { String(t.outcomes[$0]) }
            cells += [String(t.estimatedCompletionTokens), t.estimatedCost.decimalString, t.overrun.decimalString,
                      String(t.driftLocalPromptTokens), String(t.driftLocalCompletionTokens)]
            let drift = t.drift
            cells += [drift.map { String($0.promptTokens) } ?? "", drift?.promptPerMille.map(ReportText.perMille) ?? "",
                      drift.map { String($0.completionTokens) } ?? "",
                      drift?.completionPerMille.map(ReportText.perMille) ?? ""]
            out += line(cells)
        }
        return out
    }

    /// One record: the fields escaped and joined by commas, with CRLF.
    static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\r\n"
    }

    /// `field` as RFC 4180 allows it: verbatim when it holds no comma, quote, CR or LF (and no leading or
    /// trailing space, which some readers trim), else in double quotes with each quote doubled.
    static func escape(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
            || field.first == " " || field.last == " "
        guard needsQuotes else { return field }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in field.unicodeScalars {
            quoted.append(scalar)
            if scalar == "\"" { quoted.append("\"") }
        }
        quoted.append("\"")
        return String(quoted)
    }
}
