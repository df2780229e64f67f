/// The result of `settle`: the record, and whether an earlier settle had already written it.
public struct SettleOutcome: Sendable, Hashable {
    /// The one record for the request id.
    public var record: UsageRecord
    /// True when this call found the request already settled and changed nothing (a retry).
    public var wasAlreadySettled: Bool

    /// An outcome value.
    public init(record: UsageRecord, wasAlreadySettled: Bool) {
        self.record = record
        self.wasAlreadySettled = wasAlreadySettled
    }
}
