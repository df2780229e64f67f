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
