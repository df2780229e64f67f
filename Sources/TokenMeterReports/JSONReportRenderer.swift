import Foundation
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterJSON

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
        let document: JSONValue = [
            "schema": .string(schema),
            "month": .string(report.period.description),
            "first_day": .string(ReportText.day(report.period.start)),
            "last_day": .string(ReportText.day(report.period.end.addingTimeInterval(-1))),
            "coverage": .string(report.coverage.name),
            "data_through": text(through(report.coverage)),
            "generated_at": .string(ReportText.timestamp(report.generatedAt)),
            "user_filter": text(report.userFilter),
            "currency": "USD",
            "totals": totals(report.totals),
            "users": .array(report.users.map(user)),
            "models": .array(report.models.map { ["model": .string($0.model), "totals": totals($0.totals)] }),
            "user_models": .array(report.userModels.map {
                ["user": .string($0.userName), "model": .string($0.model), "totals": totals($0.totals)]
            }),
            "days": .array(report.days.map { day($0, names: names) }),
        ]
        return document.prettyJSON() + "\n"
    }

    /// The instant the data runs to: the report time of a partial month, the month's end (exclusive) of a
    /// complete one, nil for a month not started.
    private static func through(_ coverage: MonthlyReport.Coverage) -> String? {
        switch coverage {
        case .complete, .notStarted: nil
        case .partial(let through): ReportText.timestamp(through)
        }
    }

    /// A whole number, or `null` for an unknown figure.
    private static func count(_ value: Int64?) -> JSONValue { value.map { .int($0) } ?? .null }

    /// A string, or `null` for an unknown figure.
    private static func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    static func totals(_ t: UsageTotals) -> JSONValue {
        [
            "requests": .int(t.requests),
            "prompt_tokens": .int(t.promptTokens),
            "completion_tokens": .int(t.completionTokens),
            "billed_tokens": .int(t.billedTokens),
            "cost_usd": .string(t.cost.decimalString),
            "provider_reported": [
                "requests": count(t.providerReportedRequests),
                "prompt_tokens": count(t.providerPromptTokens),
                "completion_tokens": count(t.providerCompletionTokens),
                "cached_tokens": count(t.cachedTokens),
                "reasoning_tokens": count(t.reasoningTokens),
            ],
            "billed_by": ["provider": share(t.billedByProvider), "local": share(t.billedLocally)],
            "outcomes": .object(JSONObject(UsageStatus.allCases.map { (key: $0.rawValue, value: .int(t.outcomes[$0])) })),
            "estimated": ["completion_tokens": .int(t.estimatedCompletionTokens),
                          "cost_usd": .string(t.estimatedCost.decimalString)],
            "overrun_usd": .string(t.overrun.decimalString),
            "drift": t.drift.map(drift) ?? .null,
        ]
    }

    /// Provider minus local counts over the requests with provider counts; percentages of the local count
    /// with one decimal, `null` when the local count is 0.
    private static func drift(_ d: TokenDrift) -> JSONValue {
        [
            "requests": .int(d.requests),
            "local_prompt_tokens": .int(d.localPromptTokens),
            "provider_prompt_tokens": .int(d.providerPromptTokens),
            "prompt_tokens": .int(d.promptTokens),
            "prompt_percent": text(d.promptPerMille.map(ReportText.perMille)),
            "local_completion_tokens": .int(d.localCompletionTokens),
            "provider_completion_tokens": .int(d.providerCompletionTokens),
            "completion_tokens": .int(d.completionTokens),
            "completion_percent": text(d.completionPerMille.map(ReportText.perMille)),
        ]
    }

    private static func share(_ s: BillingShare) -> JSONValue {
        ["requests": .int(s.requests), "billed_tokens": .int(s.billedTokens), "cost_usd": .string(s.cost.decimalString)]
    }

    private static func user(_ u: MonthlyReport.UserUsage) -> JSONValue {
        [
            "user": .string(u.user.name),
            "status": .string(u.user.status.rawValue),
            "budget": [
                "monthly_usd": text(u.budget.monthlyLimit?.decimalString),
                "monthly_tokens": count(u.budget.monthlyTokenLimit),
                "max_request_usd": text(u.budget.maxRequestCost?.decimalString),
                "monthly_usd_used_percent": text(u.costLimitUsedBasisPoints.map { ReportText.percent(basisPoints: $0) }),
                "monthly_tokens_used_percent": text(u.tokenLimitUsedBasisPoints.map { ReportText.percent(basisPoints: $0) }),
            ],
            "totals": totals(u.totals),
        ]
    }

    private static func day(_ d: MonthlyReport.DailyUsage, names: [Int64: String]) -> JSONValue {
        [
            "date": .string(ReportText.day(d.date)),
            "requests": .int(d.totals.requests),
            "billed_tokens": .int(d.totals.billedTokens),
            "cost_usd": .string(d.totals.cost.decimalString),
            "users": .array(d.users.map { share in
                ["user": .string(names[share.userID] ?? "#\(share.userID)"),
                 "requests": .int(share.requests), "billed_tokens": .int(share.billedTokens),
                 "cost_usd": .string(share.cost.decimalString)]
            }),
        ]
    }
}
