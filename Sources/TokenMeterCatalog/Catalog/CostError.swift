/// Why a cost could not be computed.
public enum CostError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidCounts(prompt: Int, cached: Int, completion: Int)
    case overflow(prompt: Int, completion: Int)
    /// The catalog has no price for this service tier (or none for a prompt of this length in it).
    case unpricedServiceTier(String, promptTokens: Int)

    public var description: String {
        switch self {
        case .invalidCounts(let p, let c, let o):
            "token counts must be non-negative with cached ≤ prompt (prompt \(p), cached \(c), completion \(o))"
        case .overflow(let p, let o):
            "the cost of \(p) prompt and \(o) completion tokens exceeds the money range (±$9,223,372)"
        case .unpricedServiceTier(let tier, let p):
            "the catalog has no price for service tier \"\(tier)\" at \(p) prompt tokens; add it under \"price.service_tiers\" with source and date"
        }
    }
}
