/// Why a cost could not be computed.
public enum CostError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidCounts(prompt: Int, cached: Int, completion: Int)
    case overflow(prompt: Int, completion: Int)

    public var description: String {
        switch self {
        case .invalidCounts(let p, let c, let o):
            "token counts must be non-negative with cached ≤ prompt (prompt \(p), cached \(c), completion \(o))"
        case .overflow(let p, let o):
            "the cost of \(p) prompt and \(o) completion tokens exceeds the money range (±$9,223,372)"
        }
    }
}
