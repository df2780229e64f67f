import Foundation

/// Which monthly limit of a ``Budget`` an alert is about.
public enum BudgetLimitKind: String, Sendable, Hashable, CaseIterable {
    /// ``Budget/monthlyLimit``; values in pico-USD.
    case usd
    /// ``Budget/monthlyTokenLimit``; values in tokens.
    case tokens
}

/// Why an alert fired.
public enum BudgetAlertReason: String, Sendable, Hashable {
    /// The month's settled spend reached the threshold.
    case spent
    /// Nothing of the limit was left for a request (settled spend plus the holds of live requests), so the
    /// gateway refused a request or stopped growing a stream's hold: the limit is used up in practice even
    /// when the settled spend is a little short of it.
    case limitReached = "limit_reached"
}

/// An alert about to be recorded: one user's limit crossed a threshold in one month.
public struct BudgetAlertEvent: Sendable, Hashable {
    public var userID: Int64
    public var period: BillingPeriod
    public var limit: BudgetLimitKind
    /// Percent of the limit, 1...1000.
    public var thresholdPercent: Int
    /// The limit when it fired (pico-USD or tokens).
    public var limitValue: Int64
    /// Settled spend of the month when it fired (pico-USD or tokens).
    public var spent: Int64
    /// Settled spend plus live holds when it fired.
    public var committed: Int64
    public var reason: BudgetAlertReason

    public init(userID: Int64, period: BillingPeriod, limit: BudgetLimitKind, thresholdPercent: Int, limitValue: Int64,
                spent: Int64, committed: Int64, reason: BudgetAlertReason) {
        self.userID = userID
        self.period = period
        self.limit = limit
        self.thresholdPercent = thresholdPercent
        self.limitValue = limitValue
        self.spent = spent
        self.committed = committed
        self.reason = reason
    }
}

/// A recorded alert and what became of its delivery.
public struct BudgetAlert: Sendable, Hashable {
    public var id: Int64
    public var userName: String
    public var event: BudgetAlertEvent
    public var firedAt: Date
    /// When the webhook answered 2xx; nil while undelivered (or when no webhook is configured).
    public var deliveredAt: Date?
    /// Webhook attempts so far.
    public var attempts: Int
    /// The last failed attempt's error, if any.
    public var lastError: String?

    public init(id: Int64, userName: String, event: BudgetAlertEvent, firedAt: Date, deliveredAt: Date?, attempts: Int,
                lastError: String?) {
        self.id = id
        self.userName = userName
        self.event = event
        self.firedAt = firedAt
        self.deliveredAt = deliveredAt
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// The ledger's record of budget alerts, which makes each (user, month, limit, threshold) fire once however
/// many gateway instances and concurrent requests see it cross, and the recent-requests view of the console.
public protocol BudgetAlertLog: Sendable {
    /// Records `event` unless an alert for the same user, month, limit and threshold exists; returns the new
    /// alert, or nil when one was already recorded (by this or another instance). The new alert is claimed for
    /// `claim` by its recorder: no one else sends it before then.
    func recordBudgetAlert(_ event: BudgetAlertEvent, claim: Duration) async throws -> BudgetAlert?

    /// Claims for `claim` up to `limit` alerts that are not delivered, had fewer than `attempts` webhook attempts,
    /// fired within `within`, and are not claimed by anyone now (a sender that stopped leaves its claim to run
    /// out); oldest first. Each alert is claimed by one caller at a time, across instances.
    func claimUndeliveredAlerts(attempts: Int, within: Duration, claim: Duration, limit: Int) async throws -> [BudgetAlert]

    /// Notes a webhook attempt: how many so far, and either when it was delivered or the error.
    func recordAlertDelivery(alertID: Int64, attempts: Int, deliveredAt: Date?, error: String?) async throws

    /// Recent alerts, newest first; only `userID`'s when given.
    func budgetAlerts(userID: Int64?, limit: Int) async throws -> [BudgetAlert]

    /// A user's most recent usage records, newest first.
    func recentRecords(userID: Int64, limit: Int) async throws -> [UsageRecord]
}
