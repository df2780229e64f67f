import Foundation
import TokenMeterLedger
import TokenMeterMoney

/// Renders a ``MonthlyReport`` as JSON with the stable schema `tokenmeter.monthly-report/1`
/// (docs/REPORTS.md): tokens and counts are JSON integers, money is an exact decimal string of USD
/// (`"0.00000015"`), unknown figures are `null`, dates are UTC. Keys appear in schema order; fields are
/// only ever added, never renamed or removed, within a schema version.
public enum JSONReportRenderer {
    /// The value of the document's `schema` key.
    public static let schema = "tokenmeter.monthly-report/1"

    /// The JSON document, ending with a newline.
    public static func render(_ report: MonthlyReport) -> String {
        let names = Dictionary(uniqueKeysWithValues: report.users.map { ($0.user.id, $0.user.name) })
        let document: JSONText = .object([
            ("schema", .string(schema)),
            ("month", .string(report.period.description)),
            ("first_day", .string(ReportText.day(report.period.start))),
            ("last_day", .string(ReportText.day(report.period.end.addingTimeInterval(-1)))),
            ("coverage", .string(report.coverage.name)),
            ("data_through", .string(through(report.coverage))),
            ("generated_at", .string(ReportText.timestamp(report.generatedAt))),
            ("user_filter", .string(report.userFilter)),
            ("currency", .string("USD")),
            ("totals", totals(report.totals)),
            ("users", .array(report.users.map(user))),
            ("models", .array(report.models.map { .object([("model", .string($0.model)), ("totals", totals($0.totals))]) })),
            ("user_models", .array(report.userModels.map {
                .object([("user", .string($0.userName)), ("model", .string($0.model)), ("totals", totals($0.totals))])
            })),
            ("days", .array(report.days.map { day($0, names: names) })),
        ])
        return document.rendered + "\n"
    }

    /// The instant the data runs to: the report time of a partial month, the month's end (exclusive) of a
    /// complete one, nil for a month not started.
    private static func through(_ coverage: MonthlyReport.Coverage) -> String? {
        switch coverage {
        case .complete, .notStarted: nil
        case .partial(let through): ReportText.timestamp(through)
        }
    }

    static func totals(_ t: UsageTotals) -> JSONText {
        .object([
            ("requests", .integer(t.requests)),
            ("prompt_tokens", .integer(t.promptTokens)),
            ("completion_tokens", .integer(t.completionTokens)),
            ("billed_tokens", .integer(t.billedTokens)),
            ("cost_usd", .string(t.cost.decimalString)),
            ("provider_reported", .object([
                ("requests", .integer(t.providerReportedRequests)),
                ("prompt_tokens", .integer(t.providerPromptTokens)),
                ("completion_tokens", .integer(t.providerCompletionTokens)),
                ("cached_tokens", .integer(t.cachedTokens)),
                ("reasoning_tokens", .integer(t.reasoningTokens)),
            ])),
            ("billed_by", .object([("provider", share(t.billedByProvider)), ("local", share(t.billedLocally))])),
            ("outcomes", .object(UsageStatus.allCases.map { ($0.rawValue, .integer(t.outcomes[$0])) })),
        ])
    }

    private static func share(_ s: BillingShare) -> JSONText {
        .object([("requests", .integer(s.requests)), ("billed_tokens", .integer(s.billedTokens)),
                 ("cost_usd", .string(s.cost.decimalString))])
    }

    private static func user(_ u: MonthlyReport.UserUsage) -> JSONText {
        .object([
            ("user", .string(u.user.name)),
            ("status", .string(u.user.status.rawValue)),
            ("budget", .object([
                ("monthly_usd", .string(u.budget.monthlyLimit?.decimalString)),
                ("monthly_tokens", .integer(u.budget.monthlyTokenLimit)),
                ("max_request_usd", .string(u.budget.maxRequestCost?.decimalString)),
                ("monthly_usd_used_percent", .string(u.costLimitUsedBasisPoints.map { ReportText.percent(basisPoints: $0) })),
                ("monthly_tokens_used_percent", .string(u.tokenLimitUsedBasisPoints.map { ReportText.percent(basisPoints: $0) })),
            ])),
            ("totals", totals(u.totals)),
        ])
    }

    private static func day(_ d: MonthlyReport.DailyUsage, names: [Int64: String]) -> JSONText {
        .object([
            ("date", .string(ReportText.day(d.date))),
            ("requests", .integer(d.totals.requests)),
            ("billed_tokens", .integer(d.totals.billedTokens)),
            ("cost_usd", .string(d.totals.cost.decimalString)),
            ("users", .array(d.users.map { share in
                .object([("user", .string(names[share.userID] ?? "#\(share.userID)")),
                         ("requests", .integer(share.requests)), ("billed_tokens", .integer(share.billedTokens)),
                         ("cost_usd", .string(share.cost.decimalString))])
            })),
        ])
    }
}
