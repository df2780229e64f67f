import TokenMeterMoney

/// What a model costs, per token, in exact pico-dollars (see `Money`), with where the figures came
/// from. Reasoning tokens are billed as output. The standard rates are what OpenAI calls the `default`
/// service tier; other tiers (`flex`, `priority`) have their own prices in `serviceTiers`.
public struct ModelPrice: Sendable, Equatable {
    /// Rates that apply to one request.
    public struct Rates: Sendable, Equatable {
        /// Price of one uncached prompt token.
        public var input: Money
        /// Price of one cached prompt token; nil means the provider offers no cache discount, so
        /// cached tokens are billed at `input`.
        public var cachedInput: Money?
        /// Price of one completion token (reasoning included).
        public var output: Money
        /// Price of one prompt token written to the provider's cache for five minutes (Anthropic); nil: the
        /// provider does not price cache writes apart, so they are billed at `input`.
        public var cacheWrite5m: Money?
        /// Price of one prompt token written to the cache for one hour (Anthropic); nil: billed at
        /// `cacheWrite5m`, else `input`.
        public var cacheWrite1h: Money?

        public init(input: Money, cachedInput: Money? = nil, output: Money, cacheWrite5m: Money? = nil, cacheWrite1h: Money? = nil) {
            self.input = input
            self.cachedInput = cachedInput
            self.output = output
            self.cacheWrite5m = cacheWrite5m
            self.cacheWrite1h = cacheWrite1h
        }
    }

    /// Higher rates for the whole request when its prompt is longer than `abovePromptTokens`
    /// (gpt-5.4 and later above 272k tokens).
    public struct LongContextTier: Sendable, Equatable {
        /// The tier applies when prompt tokens are strictly more than this.
        public var abovePromptTokens: Int
        public var rates: Rates

        public init(abovePromptTokens: Int, rates: Rates) {
            self.abovePromptTokens = abovePromptTokens
            self.rates = rates
        }
    }

    /// Standard rates.
    public var standard: Rates
    /// Optional long-prompt tier.
    public var longContext: LongContextTier?
    /// Prices of the other service tiers, keyed by the name OpenAI reports in a response's `service_tier`
    /// (`"flex"`, `"priority"`); empty when the catalog knows none. See `rates(forPromptTokens:serviceTier:)`.
    public var serviceTiers: [String: ServiceTierPrice]
    /// Where the prices were read, e.g. "litellm 1.110.2 model_prices_and_context_window_backup.json".
    public var source: String
    /// The day the prices were read from `source`, `YYYY-MM-DD`.
    public var date: String

    public init(standard: Rates, longContext: LongContextTier? = nil, serviceTiers: [String: ServiceTierPrice] = [:],
                source: String, date: String) {
        self.standard = standard
        self.longContext = longContext
        self.serviceTiers = serviceTiers
        self.source = source
        self.date = date
    }

    /// The standard-tier rates for a request with `promptTokens` prompt tokens.
    public func rates(forPromptTokens promptTokens: Int) -> Rates {
        if let tier = longContext, promptTokens > tier.abovePromptTokens { return tier.rates }
        return standard
    }

    /// The exact cost of one request at the standard rates: `(prompt − cached) × input +
    /// cached × cachedInput + completion × output`, all in pico-dollars. `cachedTokens` are part of
    /// `promptTokens`, as in OpenAI's `usage`. Throws when a count is negative or the total passes
    /// ±$9.2 million.
    public func cost(promptTokens: Int, cachedTokens: Int = 0, completionTokens: Int) throws(CostError) -> Money {
        try cost(promptTokens: promptTokens, cachedTokens: cachedTokens, completionTokens: completionTokens, serviceTier: nil)
    }

    /// The exact cost of one request served in `serviceTier` (nil or `"default"`: the standard rates),
    /// computed as in `cost(promptTokens:cachedTokens:completionTokens:)` with that tier's rates, plus the
    /// prompt tokens written to the provider's cache: `cacheWriteTokens` of the prompt (`cacheWrite1hTokens` of
    /// them for one hour, the rest for five minutes) are billed at the cache-write prices instead of `input`.
    /// Throws `CostError.unpricedServiceTier` when the catalog has no price for the tier at this prompt length
    /// (see `rates(forPromptTokens:serviceTier:)`): such a request must not be billed at another tier's price.
    public func cost(promptTokens: Int, cachedTokens: Int = 0, completionTokens: Int, serviceTier: String?,
                     cacheWriteTokens: Int = 0, cacheWrite1hTokens: Int = 0) throws(CostError) -> Money {
        guard promptTokens >= 0, completionTokens >= 0, cachedTokens >= 0, cacheWriteTokens >= 0,
              (0...cacheWriteTokens).contains(cacheWrite1hTokens), cachedTokens + cacheWriteTokens <= promptTokens else {
            throw .invalidCounts(prompt: promptTokens, cached: cachedTokens, completion: completionTokens)
        }
        guard let r = rates(forPromptTokens: promptTokens, serviceTier: serviceTier) else {
            throw .unpricedServiceTier(serviceTier ?? ModelPrice.standardServiceTier, promptTokens: promptTokens)
        }
        let fiveMinute = r.cacheWrite5m ?? r.input
        guard let uncached = r.input.times(promptTokens - cachedTokens - cacheWriteTokens),
              let cached = (r.cachedInput ?? r.input).times(cachedTokens),
              let written5m = fiveMinute.times(cacheWriteTokens - cacheWrite1hTokens),
              let written1h = (r.cacheWrite1h ?? fiveMinute).times(cacheWrite1hTokens),
              let output = r.output.times(completionTokens),
              let sum1 = uncached.adding(cached), let sum2 = sum1.adding(written5m), let sum3 = sum2.adding(written1h),
              let total = sum3.adding(output) else {
            throw .overflow(prompt: promptTokens, completion: completionTokens)
        }
        return total
    }
}
