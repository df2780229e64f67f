import GRDB
import TokenMeterMoney

/// The usage column group shared by `usage_records` and `reservations` (see `LedgerMigrations.usageColumns`),
/// read and written as one ``MeteredUsage``.
enum UsageColumns {
    static let names = [
        "prompt_tokens", "completion_tokens", "provider_prompt_tokens", "provider_completion_tokens",
        "provider_cached_tokens", "provider_reasoning_tokens", "billed_by", "billed_tokens", "cost_pusd",
        "estimated_completion_tokens", "estimated_pusd",  // since v5
    ]

    /// Column values in the order of ``names``.
    static func values(_ u: MeteredUsage) -> [(any DatabaseValueConvertible)?] {
        [u.promptTokens, u.completionTokens, u.provider?.promptTokens, u.provider?.completionTokens,
         u.provider?.cachedTokens, u.provider?.reasoningTokens, u.billedBy.rawValue, u.billedTokens,
         u.cost.picoUSD, u.estimatedCompletionTokens, u.estimatedCost.picoUSD]
    }

    static func decode(_ row: Row) throws -> MeteredUsage {
        let billed: String = row["billed_by"]
        guard let billedBy = BilledCount(rawValue: billed) else {
            throw LedgerError.storage("billed_by holds '\(billed)'")
        }
        var provider: ProviderUsage?
        if let p: Int64 = row["provider_prompt_tokens"], let c: Int64 = row["provider_completion_tokens"] {
            provider = ProviderUsage(promptTokens: p, completionTokens: c, cachedTokens: row["provider_cached_tokens"],
                                     reasoningTokens: row["provider_reasoning_tokens"])
        }
        var usage = MeteredUsage(promptTokens: row["prompt_tokens"], completionTokens: row["completion_tokens"],
                                 provider: provider, billedBy: billedBy, cost: Money(picoUSD: row["cost_pusd"]))
        usage.estimatedCompletionTokens = row["estimated_completion_tokens"]
        usage.estimatedCost = Money(picoUSD: row["estimated_pusd"])
        return usage
    }
}
