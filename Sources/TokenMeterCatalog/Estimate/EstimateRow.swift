import TokenMeterMoney

/// The estimate for one input on one model.
public struct EstimateRow: Sendable, Equatable {
    /// Where the output allowance came from.
    public enum AllowanceSource: String, Sendable, Equatable {
        /// The request's `max_completion_tokens` / `max_tokens`.
        case request
        /// `--max-output N`.
        case option
        /// The model's largest output.
        case model
    }

    /// The input's label (file path or "stdin").
    public var input: String
    /// The model as requested and as resolved.
    public var resolved: ResolvedModel
    /// Prompt tokens with their breakdown and exactness.
    public var prompt: PromptCount
    /// Completion tokens allowed (the worst case bills all of them).
    public var maxOutputTokens: Int
    public var allowanceSource: AllowanceSource
    /// The service tier the costs are priced in; nil for the standard prices.
    public var serviceTier: String?
    /// Cost of the prompt alone; nil when the model has no price (in the service tier).
    public var promptCost: Money?
    /// Cost of the prompt plus the full output allowance; nil when the model has no price (in the service tier).
    public var worstCaseCost: Money?
    /// How the prompt (with the allowance, when it is the request's cap or `--max-output`) passes the model's
    /// input limit or context window; nil when it fits.
    public var contextOverflow: ContextOverflow?
    /// Things the user should know (over the context window, no price, allowance above the model's
    /// limit); they do not make the count approximate.
    public var warnings: [String]

    /// The catalog entry.
    public var model: CatalogModel { resolved.model }
    /// True when the request fits the model's input limit and context window.
    public var fitsContext: Bool { contextOverflow == nil }
    /// True when the prompt count is exactly what the provider bills.
    public var isExact: Bool { prompt.isExact }
}
