import TokenMeterCatalog
import TokenMeterLedger
import TokenMeterMoney

/// The budget arithmetic before a request goes upstream: does the prompt alone fit, and how many
/// completion tokens can the user's remaining money, remaining tokens and per-request cap pay for.
struct Preflight: Sendable {
    /// The model's prices (a free model is priced at zero; an unpriced one is refused before pre-flight).
    let price: ModelPrice
    /// Prompt tokens, counted with the chat rule.
    let promptTokens: Int
    /// The service tier whose prices the hold is sized at: the one the request asked for (nil: standard).
    /// Admission refuses a tier the catalog cannot price, so these rates exist.
    var serviceTier: String? = nil

    /// The rates of ``serviceTier`` for `promptTokens` prompt tokens.
    private func rates(forPromptTokens prompt: Int) -> ModelPrice.Rates {
        price.rates(forPromptTokens: prompt, serviceTier: serviceTier) ?? price.rates(forPromptTokens: prompt)
    }

    /// The exact cost of `completion` tokens after the prompt (pico-USD). Saturates instead of overflowing.
    func cost(completionTokens completion: Int, promptTokens prompt: Int? = nil, cachedTokens: Int = 0,
              cacheWrites: CacheWrites = .none) -> Money {
        return (try? price.cost(promptTokens: prompt ?? promptTokens, cachedTokens: cachedTokens, completionTokens: completion,
                                serviceTier: serviceTier, cacheWriteTokens: cacheWrites.tokens, cacheWrite1hTokens: cacheWrites.oneHour))
            ?? Money(picoUSD: .max)
    }

    /// What the ledger holds for the prompt and `completion` output tokens; `Int.max` (nothing limits the
    /// output) holds the prompt alone.
    func hold(completionTokens completion: Int) -> UsageEstimate {
        let output = completion == .max ? 0 : completion
        return UsageEstimate(cost: cost(completionTokens: output), tokens: Int64(promptTokens + output))
    }

    /// The cost of the provider's counts at the tier the provider says served the request (nil: the tier asked
    /// for). A served tier the catalog cannot price is billed at the asked tier's rates (the caller logs it).
    func providerCost(promptTokens prompt: Int, cachedTokens: Int, cacheWrites: CacheWrites = .none, completionTokens completion: Int,
                      servedTier: String?) -> (cost: Money, tierPriced: Bool) {
        guard let servedTier, servedTier != serviceTier else {
            return (cost(completionTokens: completion, promptTokens: prompt, cachedTokens: cachedTokens, cacheWrites: cacheWrites), true)
        }
        var served = self
        served.serviceTier = servedTier
        guard price.rates(forPromptTokens: prompt, serviceTier: servedTier) != nil else {
            return (cost(completionTokens: completion, promptTokens: prompt, cachedTokens: cachedTokens, cacheWrites: cacheWrites), false)
        }
        return (served.cost(completionTokens: completion, promptTokens: prompt, cachedTokens: cachedTokens, cacheWrites: cacheWrites), true)
    }

    /// Prompt tokens the provider wrote to its cache (Anthropic), billed at the cache-write prices.
    struct CacheWrites: Sendable {
        /// All of them.
        var tokens: Int
        /// Of ``tokens``, those written for one hour.
        var oneHour: Int
        static let none = CacheWrites(tokens: 0, oneHour: 0)
    }

    /// Most completion tokens `money` pays for after the prompt; nil when the prompt alone costs more.
    func affordableCompletion(within money: Money) -> Int? {
        let promptCost = cost(completionTokens: 0)
        guard promptCost <= money else { return nil }
        let rate = rates(forPromptTokens: promptTokens).output.picoUSD
        guard rate > 0 else { return Int.max }
        var n = Int((money - promptCost).picoUSD / rate)
        while n > 0, cost(completionTokens: n) > money { n -= 1 }  // rounding in `cost`, if any
        return n
    }

    /// How many completion tokens more than `granted` the budget pays for, from a status that already counts
    /// this request's hold of the prompt and `granted` completion tokens: the smallest of what the remaining
    /// money, the remaining tokens and the per-request cap leave (`Int.max` when nothing limits, 0 when
    /// nothing is left).
    func additionalCompletion(beyond granted: Int, status: BudgetStatus) -> Int {
        var more = Int.max
        if let money = status.remainingCost {
            // Completion tokens cost the same each (ModelPrice.cost is linear in them).
            let rate = rates(forPromptTokens: promptTokens).output.picoUSD
            if rate > 0 { more = min(more, Int(money.picoUSD / rate)) }
        }
        if let tokens = status.remainingTokens { more = min(more, Int(clamping: tokens)) }
        if let cap = status.budget.maxRequestCost {
            more = min(more, max(0, (affordableCompletion(within: cap) ?? 0) - granted))
        }
        return more
    }

    /// Completion tokens the budget allows: the smallest of what the remaining money, the remaining tokens
    /// and the per-request cap pay for (`Int.max` when nothing limits). Throws 429 `insufficient_quota` when
    /// the prompt alone exceeds one of them, or nothing is left for output.
    func budgetAllowance(status: BudgetStatus) throws(GatewayError) -> Int {
        var allowance = Int.max
        if let money = status.remainingCost {
            guard let n = affordableCompletion(within: money) else {
                throw .insufficientQuota("You exceeded your current quota: the prompt alone (\(promptTokens) tokens, "
                    + "\(cost(completionTokens: 0))) costs more than the \(money) left in your budget for \(status.period).")
            }
            allowance = min(allowance, n)
        }
        if let tokens = status.remainingTokens {
            guard Int64(promptTokens) <= tokens else {
                throw .insufficientQuota("You exceeded your current quota: the prompt alone (\(promptTokens) tokens) "
                    + "is more than the \(tokens) tokens left in your budget for \(status.period).")
            }
            allowance = min(allowance, Int(tokens) - promptTokens)
        }
        if let cap = status.budget.maxRequestCost {
            guard let n = affordableCompletion(within: cap) else {
                throw .insufficientQuota("The prompt alone (\(promptTokens) tokens, \(cost(completionTokens: 0))) "
                    + "costs more than your per-request maximum of \(cap).")
            }
            allowance = min(allowance, n)
        }
        guard allowance > 0 else {
            throw .insufficientQuota("You exceeded your current quota: nothing is left in your budget for "
                + "\(status.period) to pay for any completion tokens.")
        }
        return allowance
    }

    /// The monthly limits with nothing left for this request at admission: the money left does not pay for the
    /// prompt and one output token, or the tokens left do not cover them (budget alerts, docs/ALERTS.md).
    func exhaustedAtAdmission(status: BudgetStatus) -> Set<BudgetLimitKind> {
        var limits: Set<BudgetLimitKind> = []
        if let money = status.remainingCost, (affordableCompletion(within: money) ?? 0) == 0 { limits.insert(.usd) }
        if let tokens = status.remainingTokens, tokens <= Int64(promptTokens) { limits.insert(.tokens) }
        return limits
    }

    /// The monthly limits with nothing left for one more output token of a live stream, from a status that
    /// counts the stream's own hold.
    func exhaustedForOutput(status: BudgetStatus) -> Set<BudgetLimitKind> {
        var limits: Set<BudgetLimitKind> = []
        let rate = rates(forPromptTokens: promptTokens).output.picoUSD
        if let money = status.remainingCost, rate > 0, money.picoUSD < rate { limits.insert(.usd) }
        if let tokens = status.remainingTokens, tokens == 0 { limits.insert(.tokens) }
        return limits
    }
}
