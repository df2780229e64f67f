import TokenMeterMoney

/// The budget checks both ledgers make inside a reservation's or an extension's transaction.
enum BudgetFit {
    /// A new hold: not negative, within the per-request cap, and within what both monthly limits leave.
    static func checkAdmission(_ estimate: UsageEstimate, in status: BudgetStatus, userName: String) throws {
        guard estimate.cost >= .zero, estimate.tokens >= 0 else {
            throw LedgerError.invalidUsage("a reservation estimate must be ≥ 0 (got \(estimate.cost), \(estimate.tokens) tokens)")
        }
        if let cap = status.budget.maxRequestCost, estimate.cost > cap {
            throw LedgerError.requestCapExceeded(cap: cap, requested: estimate.cost)
        }
        try check(estimate, in: status, userName: userName)
    }

    /// A hold raised from `held` to `wanted` while the request has spent `spentCost` and `spentTokens` (its last
    /// checkpoint): never smaller, within the per-request cap, and its increase within what the limits leave.
    /// Returns false when `wanted` equals `held` (nothing to write).
    static func checkExtension(from held: UsageEstimate, to wanted: UsageEstimate, spentCost: Money, spentTokens: Int64,
                               in status: BudgetStatus, userName: String) throws -> Bool {
        guard wanted.cost >= held.cost, wanted.tokens >= held.tokens else {
            throw LedgerError.invalidUsage("a hold never shrinks while its request runs (held \(held.cost), "
                + "\(held.tokens) tokens; asked \(wanted.cost), \(wanted.tokens) tokens)")
        }
        if wanted == held { return false }
        if let cap = status.budget.maxRequestCost, wanted.cost > cap {
            throw LedgerError.requestCapExceeded(cap: cap, requested: wanted.cost)
        }
        // The reservation counts against the month as the larger of its hold and its last checkpoint (`user_holds`),
        // so the increase to check is how much that larger value grows.
        let increase = UsageEstimate(cost: max(wanted.cost, spentCost) - max(held.cost, spentCost),
                                     tokens: max(wanted.tokens, spentTokens) - max(held.tokens, spentTokens))
        try check(increase, in: status, userName: userName)
        return true
    }

    /// Throws `.budgetExhausted` unless `estimate` fits in what `status` has left of both monthly limits.
    static func check(_ estimate: UsageEstimate, in status: BudgetStatus, userName: String) throws {
        var fits = true
        if let limit = status.budget.monthlyLimit {
            let after = status.committedCost.adding(estimate.cost)
            fits = fits && after != nil && after! <= limit
        }
        if let limit = status.budget.monthlyTokenLimit {
            let (after, overflow) = status.committedTokens.addingReportingOverflow(estimate.tokens)
            fits = fits && !overflow && after <= limit
        }
        guard fits else {
            throw LedgerError.budgetExhausted(BudgetShortfall(
                userName: userName, period: status.period, remainingCost: status.remainingCost,
                remainingTokens: status.remainingTokens, requested: estimate))
        }
    }
}

/// Carries an error thrown by a reservation's or an extension's planning closure out of the transaction unchanged.
struct PlanningRefusal: Error {
    let underlying: any Error
}
