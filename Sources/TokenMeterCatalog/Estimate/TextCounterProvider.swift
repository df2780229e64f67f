/// Supplies a token counter for ordinary text in a named encoding. The estimator asks for one per
/// encoding it needs; `TiktokenCounters` is the real one, tests may pass their own.
public protocol TextCounterProvider: Sendable {
    /// A function returning the number of tokens of a text in encoding `name` (e.g. "o200k_base").
    func counter(forEncoding name: String) throws(EstimateError) -> @Sendable (String) -> Int
}
