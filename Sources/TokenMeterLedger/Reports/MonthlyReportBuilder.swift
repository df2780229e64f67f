import Foundation
import GRDB
import TokenMeterMoney

/// Folds the rows of the monthly aggregation query (one per user, model and UTC day) into a
/// ``MonthlyReport``. Holds one entry per user-model pair and per user-day, never per record.
struct MonthlyReportBuilder {
    /// A user-model pair.
    private struct PairKey: Hashable {
        var userID: Int64
        var model: String
    }

    private var pairs: [PairKey: UsageTotals] = [:]
    /// Day number (days since 1970-01-01 UTC) → user id → that user's share of the day.
    private var userDays: [Int64: [Int64: MonthlyReport.DailyUsage.UserShare]] = [:]
    /// Day number → the day's sums.
    private var dayTotals: [Int64: UsageTotals] = [:]

    /// Milliseconds per UTC day.
    static let millisecondsPerDay: Int64 = 86_400_000

    /// The aggregation: one row per user, model and UTC day of the records that ended in
    /// `[start, end)`, optionally of one user. `SUM` over no non-NULL value is NULL, which keeps "no
    /// provider reported cached tokens" apart from "reported 0".
    static func sql(forOneUser: Bool) -> String {
        """
        SELECT user_id, model, ended_at / \(millisecondsPerDay) AS day,
               COUNT(*) AS requests,
               SUM(prompt_tokens) AS prompt_tokens,
               SUM(completion_tokens) AS completion_tokens,
               COUNT(provider_prompt_tokens) AS provider_requests,
               COALESCE(SUM(provider_prompt_tokens), 0) AS provider_prompt_tokens,
               COALESCE(SUM(provider_completion_tokens), 0) AS provider_completion_tokens,
               SUM(provider_cached_tokens) AS cached_tokens,
               SUM(provider_reasoning_tokens) AS reasoning_tokens,
               SUM(billed_tokens) AS billed_tokens,
               SUM(cost_pusd) AS cost_pusd,
               SUM(billed_by = 'provider') AS provider_billed_requests,
               SUM(CASE billed_by WHEN 'provider' THEN billed_tokens ELSE 0 END) AS provider_billed_tokens,
               SUM(CASE billed_by WHEN 'provider' THEN cost_pusd ELSE 0 END) AS provider_billed_pusd,
               SUM(status = 'completed') AS completed,
               SUM(status = 'cut_by_budget') AS cut_by_budget,
               SUM(status = 'client_cancelled') AS client_cancelled,
               SUM(status = 'upstream_error') AS upstream_error,
               SUM(status = 'interrupted') AS interrupted
        FROM usage_records
        WHERE ended_at >= :start AND ended_at < :end\(forOneUser ? " AND user_id = :user" : "")
        GROUP BY user_id, model, day
        """
    }

    /// Adds one row of ``sql(forOneUser:)``.
    mutating func add(_ row: Row) {
        let userID: Int64 = row["user_id"]
        let day: Int64 = row["day"]
        let totals = Self.totals(row)
        pairs[PairKey(userID: userID, model: row["model"]), default: UsageTotals()].add(totals)
        dayTotals[day, default: UsageTotals()].add(totals)
        var share = userDays[day, default: [:]][userID]
            ?? .init(userID: userID, requests: 0, billedTokens: 0, cost: .zero)
        share.requests += totals.requests
        share.billedTokens += totals.billedTokens
        share.cost += totals.cost
        userDays[day, default: [:]][userID] = share
    }

    /// The sums of one aggregation row.
    private static func totals(_ row: Row) -> UsageTotals {
        var t = UsageTotals()
        t.requests = row["requests"]
        t.promptTokens = row["prompt_tokens"]
        t.completionTokens = row["completion_tokens"]
        t.providerReportedRequests = row["provider_requests"]
        t.providerPromptTokens = row["provider_prompt_tokens"]
        t.providerCompletionTokens = row["provider_completion_tokens"]
        t.cachedTokens = row["cached_tokens"]
        t.reasoningTokens = row["reasoning_tokens"]
        t.billedTokens = row["billed_tokens"]
        t.cost = Money(picoUSD: row["cost_pusd"])
        t.billedByProvider = BillingShare(requests: row["provider_billed_requests"],
                                          billedTokens: row["provider_billed_tokens"],
                                          cost: Money(picoUSD: row["provider_billed_pusd"]))
        t.billedLocally = BillingShare(requests: t.requests - t.billedByProvider.requests,
                                       billedTokens: t.billedTokens - t.billedByProvider.billedTokens,
                                       cost: t.cost - t.billedByProvider.cost)
        for status in UsageStatus.allCases { t.outcomes[status] = row[status.rawValue] }
        return t
    }

    /// The report of `period` made at `now` for `users` (each with the budget in force), by name.
    func build(period: BillingPeriod, now: Date, userFilter: String?,
               users: [(user: User, budget: Budget)]) -> MonthlyReport {
        let names = Dictionary(uniqueKeysWithValues: users.map { ($0.user.id, $0.user.name) })
        var userTotals: [Int64: UsageTotals] = [:]
        var modelTotals: [String: UsageTotals] = [:]
        var total = UsageTotals()
        var userModels: [MonthlyReport.UserModelUsage] = []
        for (key, totals) in pairs {
            userTotals[key.userID, default: UsageTotals()].add(totals)
            modelTotals[key.model, default: UsageTotals()].add(totals)
            total.add(totals)
            userModels.append(.init(userID: key.userID, userName: names[key.userID] ?? "#\(key.userID)",
                                    model: key.model, totals: totals))
        }
        userModels.sort { ($0.userName.lowercased(), $0.model) < ($1.userName.lowercased(), $1.model) }
        let coverage = MonthlyReport.Coverage(period: period, now: now)
        return MonthlyReport(
            period: period, generatedAt: now, coverage: coverage, userFilter: userFilter,
            users: users.map { .init(user: $0.user, budget: $0.budget, totals: userTotals[$0.user.id] ?? UsageTotals()) },
            models: modelTotals.map { .init(model: $0.key, totals: $0.value) }.sorted { $0.model < $1.model },
            userModels: userModels, days: days(of: period, coverage: coverage), totals: total)
    }

    /// The month's days up to the day the data runs to (and any later day that has records).
    private func days(of period: BillingPeriod, coverage: MonthlyReport.Coverage) -> [MonthlyReport.DailyUsage] {
        let first = period.start.ledgerMilliseconds / Self.millisecondsPerDay
        let afterLast = period.end.ledgerMilliseconds / Self.millisecondsPerDay
        var last: Int64
        switch coverage {
        case .complete: last = afterLast - 1
        case .partial(let through): last = through.ledgerMilliseconds / Self.millisecondsPerDay
        case .notStarted: last = first - 1
        }
        if let latest = dayTotals.keys.max() { last = min(max(last, latest), afterLast - 1) }
        guard last >= first else { return [] }
        return (first...last).map { day in
            MonthlyReport.DailyUsage(
                date: Date(ledgerMilliseconds: day * Self.millisecondsPerDay), dayOfMonth: Int(day - first + 1),
                totals: dayTotals[day] ?? UsageTotals(),
                users: (userDays[day] ?? [:]).values.sorted { $0.userID < $1.userID })
        }
    }
}
