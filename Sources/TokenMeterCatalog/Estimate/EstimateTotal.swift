import TokenMeterMoney

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
