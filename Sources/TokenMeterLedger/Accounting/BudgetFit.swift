import TokenMeterMoney

/// The budget check both ledgers make inside a reservation's or an extension's transaction.
enum BudgetFit {
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
