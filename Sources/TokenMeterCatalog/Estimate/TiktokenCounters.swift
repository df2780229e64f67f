import TokenMeterTokenizer

/// The real text counters: TokenMeter's tokenizer (`Encoding.named`), each encoding loaded once per
/// process and shared by every task.
public struct TiktokenCounters: TextCounterProvider {
    public init() {}

    public func counter(forEncoding name: String) throws(EstimateError) -> @Sendable (String) -> Int {
        do {
            let encoding = try Encoding.named(EncodingName.named(name))
            return { encoding.count($0) }
        } catch {
            throw .tokenizerUnavailable(encoding: name, reason: error.description)
        }
    }
}
