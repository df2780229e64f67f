import ArgumentParser
import TokenMeterLedger

/// The budget options of `users add` and `users set-budget`.
struct BudgetOptions: ParsableArguments {
    @Option(name: .customLong("monthly-usd"), help: ArgumentHelp(
        "Monthly spending limit in USD, exact (e.g. 12.50), or 'none'.", valueName: "usd"))
    var monthlyUSD: String?

    @Option(name: .customLong("monthly-tokens"), help: ArgumentHelp(
        "Monthly limit of billed tokens (prompt + completion), or 'none'.", valueName: "n"))
    var monthlyTokens: String?

    @Option(name: .customLong("max-request-usd"), help: ArgumentHelp(
        "Most a single request may cost in USD, or 'none'.", valueName: "usd"))
    var maxRequestUSD: String?

    /// The options as a change to a budget (unset options keep their field).
    func patch() throws(LedgerError) -> BudgetPatch {
        try BudgetPatch(monthlyUSD: monthlyUSD, monthlyTokens: monthlyTokens, maxRequestUSD: maxRequestUSD)
    }

    func validate() throws {
        do { _ = try patch() } catch { throw ValidationError(error.description) }
    }
}
