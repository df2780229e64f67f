import Foundation
import TokenMeterMoney

/// A change to some fields of a ``Budget``: each field is kept, set to a limit, or cleared (unlimited).
///
/// Built from the admin CLI's or admin API's text (`"12.50"`, `"none"`) by ``init(monthlyUSD:monthlyTokens:maxRequestUSD:)``.
public struct BudgetPatch: Sendable, Hashable {
    /// What to do with one field.
    public enum Change<Value: Sendable & Hashable>: Sendable, Hashable {
        /// Leave the field as it is.
        case keep
        /// Set the field to this limit.
        case set(Value)
        /// Remove the limit (unlimited).
        case clear
    }

    /// Change to ``Budget/monthlyLimit`` (USD per UTC month).
    public var monthlyLimit: Change<Money>
    /// Change to ``Budget/monthlyTokenLimit`` (billed tokens per UTC month).
    public var monthlyTokenLimit: Change<Int64>
    /// Change to ``Budget/maxRequestCost`` (USD per request).
    public var maxRequestCost: Change<Money>

    /// A patch from explicit changes.
    public init(monthlyLimit: Change<Money> = .keep, monthlyTokenLimit: Change<Int64> = .keep,
                maxRequestCost: Change<Money> = .keep) {
        self.monthlyLimit = monthlyLimit
        self.monthlyTokenLimit = monthlyTokenLimit
        self.maxRequestCost = maxRequestCost
    }

    /// Parses text options: `nil` keeps a field, `"none"` clears it, otherwise a non-negative exact USD
    /// amount (`"12.50"`, `"$0.002"`) or a whole number of tokens.
    public init(monthlyUSD: String?, monthlyTokens: String?, maxRequestUSD: String?) throws(LedgerError) {
        self.monthlyLimit = try Self.parseUSD(monthlyUSD, field: "monthly USD limit")
        self.maxRequestCost = try Self.parseUSD(maxRequestUSD, field: "per-request maximum")
        switch monthlyTokens?.trimmingCharacters(in: .whitespaces) {
        case nil: self.monthlyTokenLimit = .keep
        case "none"?: self.monthlyTokenLimit = .clear
        case let text?:
            guard let n = Int64(text), n >= 0 else {
                throw .invalidBudget("the monthly token limit '\(text)' is not a whole number ≥ 0 (or 'none')")
            }
            self.monthlyTokenLimit = .set(n)
        }
    }

    /// Whether the patch changes nothing.
    public var isEmpty: Bool { self == BudgetPatch() }

    /// `budget` with this patch applied.
    public func applied(to budget: Budget) -> Budget {
        var b = budget
        Self.apply(monthlyLimit, to: &b.monthlyLimit)
        Self.apply(monthlyTokenLimit, to: &b.monthlyTokenLimit)
        Self.apply(maxRequestCost, to: &b.maxRequestCost)
        return b
    }

    private static func apply<V>(_ change: Change<V>, to field: inout V?) {
        switch change {
        case .keep: break
        case .set(let v): field = v
        case .clear: field = nil
        }
    }

    private static func parseUSD(_ text: String?, field: String) throws(LedgerError) -> Change<Money> {
        guard let text else { return .keep }
        if text.trimmingCharacters(in: .whitespaces) == "none" { return .clear }
        let money: Money
        do { money = try Money(parsing: text) } catch {
            throw .invalidBudget("the \(field) is not a valid amount: \(error)")
        }
        guard money >= .zero else { throw .invalidBudget("the \(field) \(money) is negative") }
        return .set(money)
    }
}
