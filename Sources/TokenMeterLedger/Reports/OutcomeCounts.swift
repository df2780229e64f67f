/// How many requests ended each way (the `status` of their usage records).
public struct OutcomeCounts: Sendable, Hashable {
    /// Finished normally.
    public var completed: Int64 = 0
    /// Stopped by TokenMeter at the budget or the per-request cap.
    public var cutByBudget: Int64 = 0
    /// The client went away before the end.
    public var clientCancelled: Int64 = 0
    /// The upstream failed.
    public var upstreamError: Int64 = 0
    /// TokenMeter stopped with the request open; settled at the next start from its last checkpoint.
    public var interrupted: Int64 = 0

    /// No requests.
    public init() {}

    /// The count of `status`.
    public subscript(status: UsageStatus) -> Int64 {
        get {
            switch status {
            case .completed: completed
            case .cutByBudget: cutByBudget
            case .clientCancelled: clientCancelled
            case .upstreamError: upstreamError
            case .interrupted: interrupted
            }
        }
        set {
            switch status {
            case .completed: completed = newValue
            case .cutByBudget: cutByBudget = newValue
            case .clientCancelled: clientCancelled = newValue
            case .upstreamError: upstreamError = newValue
            case .interrupted: interrupted = newValue
            }
        }
    }

    /// Adds `other`'s counts to these.
    public mutating func add(_ other: OutcomeCounts) {
        for status in UsageStatus.allCases { self[status] += other[status] }
    }
}
