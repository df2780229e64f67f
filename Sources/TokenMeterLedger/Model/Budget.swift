import TokenMeterMoney

/// A user's spending limits. Each limit is optional; a missing limit means "no limit of that kind".
///
/// The period of the monthly limits is the calendar month in UTC (see ``BillingPeriod``).
public struct Budget: Sendable, Hashable {
    /// Most the user may spend per calendar month (UTC), settled usage plus live reservations.
    public var monthlyLimit: Money?
    /// Most billed tokens (prompt + completion) the user may use per calendar month (UTC).
    public var monthlyTokenLimit: Int64?
    /// Most a single request may cost; a request whose estimate exceeds it is refused.
    public var maxRequestCost: Money?

    /// A budget with the given limits; `nil` means unlimited.
    public init(monthlyLimit: Money? = nil, monthlyTokenLimit: Int64? = nil, maxRequestCost: Money? = nil) {
        self.monthlyLimit = monthlyLimit
        self.monthlyTokenLimit = monthlyTokenLimit
        self.maxRequestCost = maxRequestCost
    }

    /// No limits at all.
    public static let unlimited = Budget()

    /// Refuses negative limits, which the schema would also reject, with a message naming the field.
    public func validate() throws(LedgerError) {
        if let m = monthlyLimit, m < .zero { throw .invalidBudget("the monthly USD limit \(m) is negative") }
        if let t = monthlyTokenLimit, t < 0 { throw .invalidBudget("the monthly token limit \(t) is negative") }
        if let m = maxRequestCost, m < .zero { throw .invalidBudget("the per-request maximum \(m) is negative") }
    }
}
