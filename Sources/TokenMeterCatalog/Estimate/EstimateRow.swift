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
    /// Cost of the prompt alone; nil when the model has no price.
    public var promptCost: Money?
    /// Cost of the prompt plus the full output allowance; nil when the model has no price.
    public var worstCaseCost: Money?
    /// True when the prompt fits the model's context window.
    public var fitsContext: Bool
    /// Things the user should know (over the context window, no price, allowance above the model's
    /// limit); they do not make the count approximate.
    public var warnings: [String]

    /// The catalog entry.
    public var model: CatalogModel { resolved.model }
    /// True when the prompt count is exactly what the provider bills.
    public var isExact: Bool { prompt.isExact }
}

/// Sums of the rows of one model across several inputs.
public struct EstimateTotal: Sendable, Equatable {
    /// The catalog name of the model.
    public var model: String
    /// How many inputs were summed.
    public var inputs: Int
    public var promptTokens: Int
    public var maxOutputTokens: Int
    /// Sum of the prompt costs; nil when the model has no price.
    public var promptCost: Money?
    /// Sum of the worst-case costs; nil when the model has no price.
    public var worstCaseCost: Money?
    /// Inputs whose prompt does not fit the context window.
    public var overContext: Int
    /// True when every summed row is exact.
    public var isExact: Bool
}

/// Everything an estimate run found: one row per input and model, and per-model totals.
public struct EstimateReport: Sendable, Equatable {
    /// Rows grouped by input (in input order); within an input, in model order, or cheapest first
    /// for a comparison.
    public var rows: [EstimateRow]
    /// One total per model, in the order models first appear in `rows`.
    public var totals: [EstimateTotal]
    /// How many distinct inputs were estimated.
    public var inputCount: Int

    /// True when some prompt does not fit its model's context window.
    public var anyOverContext: Bool { rows.contains { !$0.fitsContext } }
}
