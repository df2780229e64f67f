extension ModelPrice {
    /// The name of the standard service tier, whose prices are `standard` and `longContext`. OpenAI reports
    /// it in a response's `service_tier` as `"default"`.
    public static let standardServiceTier = "default"

    /// The prices of one non-standard service tier (OpenAI's `service_tier` `"flex"` or `"priority"`), read
    /// from the catalog's `price.service_tiers` with their own source and date.
    public struct ServiceTierPrice: Sendable, Equatable {
        /// The tier's rates, per token in pico-dollars.
        public var rates: Rates
        /// The tier's own long-prompt rates, when the provider publishes them.
        public var longContext: LongContextTier?
        /// Where the tier's prices were read.
        public var source: String
        /// The day they were read, `YYYY-MM-DD`.
        public var date: String

        public init(rates: Rates, longContext: LongContextTier? = nil, source: String, date: String) {
            self.rates = rates
            self.longContext = longContext
            self.source = source
            self.date = date
        }
    }

    /// The rates for a request of `promptTokens` prompt tokens served in `serviceTier`: nil or
    /// `"default"` → the standard rates (`rates(forPromptTokens:)`); a tier in `serviceTiers` → its rates,
    /// or its long-context rates when the prompt is above their threshold. Nil (unpriced) when the tier is
    /// not in the catalog, or when the prompt is above the standard long-context threshold and the tier has
    /// no long-context rates of its own: the catalog does not know that price, and guessing would bill
    /// the wrong amount. (`"auto"` is a request value, not a tier that serves a request, so it is unpriced.)
    public func rates(forPromptTokens promptTokens: Int, serviceTier: String?) -> Rates? {
        guard let serviceTier, serviceTier != ModelPrice.standardServiceTier else {
            return rates(forPromptTokens: promptTokens)
        }
        guard let tier = serviceTiers[serviceTier] else { return nil }
        if let long = tier.longContext, promptTokens > long.abovePromptTokens { return long.rates }
        if let long = longContext, promptTokens > long.abovePromptTokens { return nil }
        return tier.rates
    }

    /// Where the prices of `serviceTier` were read: (source, date) of the tier, or of the standard price
    /// for nil and `"default"`; nil when the tier is not in the catalog.
    public func provenance(ofServiceTier serviceTier: String?) -> (source: String, date: String)? {
        guard let serviceTier, serviceTier != ModelPrice.standardServiceTier else { return (source, date) }
        return serviceTiers[serviceTier].map { ($0.source, $0.date) }
    }
}
