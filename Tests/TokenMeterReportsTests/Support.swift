import Foundation
import GRDB
import Synchronization
import Testing
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterTestSupport

/// The instant `ms` milliseconds after 1970-01-01 UTC.
func instant(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

/// The UTC instant of a calendar date and time, to the millisecond.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0,
         ms: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let whole = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute,
                                                   second: second))!
    return instant(ms: Int64(whole.timeIntervalSince1970) * 1000 + Int64(ms))
}

/// One request the scenario settles, and what the report must count for it.
struct SettledRequest {
    var user: String
    var model: String
    var endedAt: Date
    var usage: MeteredUsage
    var status: UsageStatus
    /// The cost the request's reservation held.
    var hold: Money
}

/// A ledger written only through the public API (users, keys, reservations settled with known usage),
/// remembering every request it settled so tests can compute the expected sums themselves.
final class ReportLedger {
    let directory: TemporaryDirectory
    let clock: TestClock
    let store: SQLiteUsageStore
    private(set) var settled: [SettledRequest] = []
    private var customers: [String: (user: User, key: IssuedAPIKey)] = [:]
    private var counter = 0

    var path: String { store.path }

    init(now: Date, path: String? = nil) throws {
        directory = try TemporaryDirectory()
        clock = TestClock(now)
        var configuration = SQLiteUsageStore.Configuration()
        configuration.role = .administration
        let clock = clock
        configuration.now = { clock.now }
        store = try SQLiteUsageStore(path: path ?? directory.path("ledger.sqlite"), configuration: configuration)
    }

    /// Adds a user with one key.
    @discardableResult
    func addUser(_ name: String, budget: Budget = .unlimited) async throws -> User {
        let user = try await store.addUser(name: name, budget: budget)
        customers[name] = (user, try await store.createAPIKey(userID: user.id))
        return user
    }

    /// Reserves a request of `user` a second before `endedAt`, holding `hold`, and settles it at `endedAt`
    /// with `usage` (what the cost comes to above `hold` is the record's overrun).
    func settle(_ user: String, model: String, at endedAt: Date, _ usage: MeteredUsage,
                status: UsageStatus = .completed, hold: Money = .zero) async throws {
        let customer = customers[user]!
        counter += 1
        clock.set(endedAt.addingTimeInterval(-1))
        let reservation = try await store.reserve(ReservationRequest(
            requestID: "req-\(counter)", userID: customer.user.id, apiKeyID: customer.key.info.id, model: model,
            upstream: "openai", estimate: UsageEstimate(cost: hold, tokens: 0)))
        clock.set(endedAt)
        let outcome = try await store.settle(reservation, usage: usage, status: status)
        #expect(outcome.record.endedAt == endedAt)
        settled.append(SettledRequest(user: user, model: model, endedAt: endedAt, usage: usage, status: status,
                                      hold: hold))
    }

    /// The requests settled in `period`, as the test wrote them.
    func requests(in period: BillingPeriod, user: String? = nil) -> [SettledRequest] {
        settled.filter { $0.endedAt >= period.start && $0.endedAt < period.end && (user == nil || $0.user == user) }
    }
}

/// Local-count usage: `prompt` + `completion` tokens at `picoPerToken` each.
func local(_ prompt: Int64, _ completion: Int64, picoPerToken: Int64) -> MeteredUsage {
    MeteredUsage(promptTokens: prompt, completionTokens: completion,
                 cost: Money(picoUSD: (prompt + completion) * picoPerToken))
}

/// Provider-billed usage: the local counts, the provider's counts (with cached and reasoning tokens when
/// given) and a cost of the provider's total at `picoPerToken`.
func provider(local prompt: Int64, _ completion: Int64, reported p: Int64, _ c: Int64, cached: Int64? = nil,
              reasoning: Int64? = nil, picoPerToken: Int64) -> MeteredUsage {
    MeteredUsage(promptTokens: prompt, completionTokens: completion,
                 provider: ProviderUsage(promptTokens: p, completionTokens: c, cachedTokens: cached,
                                         reasoningTokens: reasoning),
                 billedBy: .provider, cost: Money(picoUSD: (p + c) * picoPerToken))
}

/// `usage` with its last `tokens` completion tokens marked as an estimate, at `picoPerToken` each (as the
/// gateway bills hidden reasoning tokens of a stream that ended without the provider's usage).
func estimating(_ tokens: Int64, picoPerToken: Int64, of usage: MeteredUsage) -> MeteredUsage {
    var u = usage
    u.estimatedCompletionTokens = tokens
    u.estimatedCost = Money(picoUSD: tokens * picoPerToken)
    return u
}

/// Sums computed in Swift from the requests the test settled: the reference every format must match.
struct ExpectedSums: Equatable {
    var requests: Int64 = 0
    var promptTokens: Int64 = 0
    var completionTokens: Int64 = 0
    var billedTokens: Int64 = 0
    var cost = Money.zero
    var providerRequests: Int64 = 0
    var cached: Int64?
    var reasoning: Int64?
    var statuses: [UsageStatus: Int64] = [:]
    var estimatedCompletionTokens: Int64 = 0
    var estimatedCost = Money.zero
    /// What each cost came to above its hold, summed.
    var overrun = Money.zero
    /// Local and provider counts over the provider-counted requests only.
    var driftLocalPrompt: Int64 = 0, driftLocalCompletion: Int64 = 0
    var providerPrompt: Int64 = 0, providerCompletion: Int64 = 0

    init(_ requests: [SettledRequest]) {
        for r in requests {
            self.requests += 1
            promptTokens += r.usage.promptTokens
            completionTokens += r.usage.completionTokens
            billedTokens += r.usage.billedTokens
            cost += r.usage.cost
            estimatedCompletionTokens += r.usage.estimatedCompletionTokens
            estimatedCost += r.usage.estimatedCost
            overrun += max(.zero, r.usage.cost - r.hold)
            if let p = r.usage.provider {
                providerRequests += 1
                driftLocalPrompt += r.usage.promptTokens
                driftLocalCompletion += r.usage.completionTokens
                providerPrompt += p.promptTokens
                providerCompletion += p.completionTokens
                if let c = p.cachedTokens { cached = (cached ?? 0) + c }
                if let x = p.reasoningTokens { reasoning = (reasoning ?? 0) + x }
            }
            statuses[r.status, default: 0] += 1
        }
    }
}

/// February 2028 (a leap month): the scenario's main month.
let february2028 = BillingPeriod(year: 2028, month: 2)!

/// A model name full of characters that need escaping in every format.
let awkwardModel = "weird,\"model\"\n<script>alert('x')</script> & co"

/// The scenario the format tests share: five users (budgeted, unbudgeted, disabled, over budget, idle),
/// requests of every outcome, provider and local counts, cached and reasoning tokens, an awkward model
/// name, and requests on both sides of each edge of February 2028 (a leap year), down to the millisecond.
/// In February: two requests bill estimated completion tokens (ann's cut gpt-4o-mini stream, cy's gpt-4o),
/// three come to more than their hold (ann's first and bob's provider-counted gpt-4o-mini, dee's gpt-4o),
/// and gpt-4o-mini and o3-mini have provider counts to compare (drift) while gpt-4o and the awkward model
/// have none.
func makeScenario() async throws -> ReportLedger {
    let ledger = try ReportLedger(now: utc(2028, 1, 10))
    try await ledger.addUser("ann", budget: Budget(monthlyLimit: try Money(parsing: "20"), monthlyTokenLimit: 1_000_000))
    try await ledger.addUser("bob")
    try await ledger.addUser("cy", budget: Budget(monthlyLimit: try Money(parsing: "5")))
    try await ledger.addUser("dee", budget: Budget(monthlyLimit: try Money(parsing: "0.005")))
    try await ledger.addUser("eve", budget: Budget(monthlyLimit: try Money(parsing: "1")))

    // Just outside February, on both sides.
    try await ledger.settle("ann", model: "gpt-4o-mini", at: utc(2028, 1, 31, 23, 59, 59, ms: 999),
                            local(1_000, 1, picoPerToken: 150_001))
    try await ledger.settle("ann", model: "gpt-4o-mini", at: utc(2028, 3, 1), local(2_000, 3, picoPerToken: 150_001))
    // February: the first and the last millisecond, and the leap day.
    try await ledger.settle("ann", model: "gpt-4o-mini", at: utc(2028, 2, 1),
                            provider(local: 1_000, 200, reported: 1_002, 200, cached: 100, picoPerToken: 150_001),
                            hold: Money(picoUSD: 180_000_000))
    try await ledger.settle("ann", model: "gpt-4o", at: utc(2028, 2, 10, 12), local(500, 50, picoPerToken: 2_500_003),
                            status: .clientCancelled, hold: Money(picoUSD: 2_000_000_000))
    try await ledger.settle("ann", model: "o3-mini", at: utc(2028, 2, 29, 23, 59, 59, ms: 999),
                            provider(local: 300, 400, reported: 301, 420, reasoning: 64, picoPerToken: 1_100_007),
                            hold: Money(picoUSD: 800_000_000))
    try await ledger.settle("ann", model: "gpt-4o-mini", at: utc(2028, 2, 15, 8),
                            estimating(20, picoPerToken: 150_001, of: local(700, 33, picoPerToken: 150_001)),
                            status: .cutByBudget, hold: Money(picoUSD: 733 * 150_001))
    try await ledger.settle("bob", model: awkwardModel, at: utc(2028, 2, 20, 6), local(10, 0, picoPerToken: 7),
                            status: .upstreamError, hold: Money(picoUSD: 100))
    try await ledger.settle("bob", model: "gpt-4o-mini", at: utc(2028, 2, 20, 7),
                            provider(local: 40, 41, reported: 40, 40, cached: 0, picoPerToken: 150_001),
                            status: .interrupted, hold: Money(picoUSD: 12_000_000))
    try await ledger.settle("cy", model: "gpt-4o", at: utc(2028, 2, 5, 9),
                            estimating(500, picoPerToken: 2_500_003, of: local(1_234, 567, picoPerToken: 2_500_003)),
                            hold: Money(picoUSD: 5_000_000_000))
    try await ledger.settle("dee", model: "gpt-4o", at: utc(2028, 2, 29, 1), local(2_000, 1_999, picoPerToken: 2_500_003),
                            hold: Money(picoUSD: 4_000_000_000))
    _ = try await ledger.store.setStatus(userID: try await ledger.store.user(named: "cy").id, .disabled)
    ledger.clock.set(utc(2028, 4, 2, 10))
    return ledger
}

/// Checks that `daily_usage` equals a GROUP BY over `usage_records` (the rollup trigger's invariant).
func assertDailyRollupMatchesRecords(path: String) throws {
    try DatabaseQueue(path: path).read { db in
        let fromRecords = try Row.fetchAll(db, sql: LedgerRollupSQL.dailyFromRecords).map { Array($0.databaseValues) }
        let rollup = try Row.fetchAll(db, sql: "SELECT * FROM daily_usage ORDER BY 1, 2, 3").map { Array($0.databaseValues) }
        #expect(fromRecords == rollup)
        #expect(!rollup.isEmpty)
    }
}
