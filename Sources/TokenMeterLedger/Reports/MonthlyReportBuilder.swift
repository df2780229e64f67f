import Foundation
import GRDB
import TokenMeterMoney

/// Folds a month of the `daily_usage` rollup (one row per UTC day, user and model) into a
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

    /// The month's rows of the `daily_usage` rollup (one per UTC day, user and model, kept by a trigger on
    /// every record insert): at most days × users × models rows, however many records the month has.
    /// The columns are read by position in ``add(_:)``.
    static func sql(forOneUser: Bool) -> String {
        """
        SELECT \(columns) FROM daily_usage
        WHERE day >= :first AND day < :end\(forOneUser ? " AND user_id = :user" : "")
        """
    }

    /// The `daily_usage` columns a report reads, in the order ``add(_:)`` and ``totals(_:)`` read them (both ledgers).
    static let columns = """
        day, user_id, model, requests, prompt_tokens, completion_tokens,
        provider_requests, provider_prompt_tokens, provider_completion_tokens, cached_tokens, reasoning_tokens,
        billed_tokens, cost_pusd, provider_billed_requests, provider_billed_tokens, provider_billed_pusd,
        completed, cut_by_budget, client_cancelled, upstream_error, interrupted,
        estimated_completion_tokens, estimated_pusd, overrun_pusd,
        drift_local_prompt_tokens, drift_local_completion_tokens
        """

    /// Adds one row of ``sql(forOneUser:)`` read by SQLite.
    mutating func add(_ row: Row) {
        add(day: row[0], userID: row[1], model: row[2], totals: Self.totals { row[$0] })
    }

    /// Adds one rollup row: the day, user and model (columns 0-2) and the sums of columns 3... as `column` reads them.
    mutating func add(day: Int64, userID: Int64, model: String, totals: UsageTotals) {
        pairs[PairKey(userID: userID, model: model), default: UsageTotals()].add(totals)
        dayTotals[day, default: UsageTotals()].add(totals)
        var share = userDays[day, default: [:]][userID]
            ?? .init(userID: userID, requests: 0, billedTokens: 0, cost: .zero)
        share.requests += totals.requests
        share.billedTokens += totals.billedTokens
        share.cost += totals.cost
        userDays[day, default: [:]][userID] = share
    }

    /// The sums of one rollup row (columns 3... of ``sql(forOneUser:)``), `column(i)` reading column `i` (nil for
    /// NULL, which only the cached and reasoning sums can be).
    static func totals(_ column: (Int) throws -> Int64?) rethrows -> UsageTotals {
        func int(_ i: Int) throws -> Int64 { try column(i) ?? 0 }
        var t = UsageTotals()
        t.requests = try int(3)
        t.promptTokens = try int(4)
        t.completionTokens = try int(5)
        t.providerReportedRequests = try int(6)
        t.providerPromptTokens = try int(7)
        t.providerCompletionTokens = try int(8)
        t.cachedTokens = try column(9)
        t.reasoningTokens = try column(10)
        t.billedTokens = try int(11)
        t.cost = Money(picoUSD: try int(12))
        t.billedByProvider = BillingShare(requests: try int(13), billedTokens: try int(14), cost: Money(picoUSD: try int(15)))
        t.billedLocally = BillingShare(requests: t.requests - t.billedByProvider.requests,
                                       billedTokens: t.billedTokens - t.billedByProvider.billedTokens,
                                       cost: t.cost - t.billedByProvider.cost)
        t.outcomes.completed = try int(16)
        t.outcomes.cutByBudget = try int(17)
        t.outcomes.clientCancelled = try int(18)
        t.outcomes.upstreamError = try int(19)
        t.outcomes.interrupted = try int(20)
        t.estimatedCompletionTokens = try int(21)
        t.estimatedCost = Money(picoUSD: try int(22))
        t.overrun = Money(picoUSD: try int(23))
        t.driftLocalPromptTokens = try int(24)
        t.driftLocalCompletionTokens = try int(25)
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
