/// Decides which checkpoints reach the database: at most one write per stream per `interval`, unless
/// the stream's completion grew by `tokenStride` tokens or more since its last write.
///
/// A plain state machine: the owning ledger keeps it under a lock, asks it what to do for
/// each event, and performs the returned write outside the lock. Checkpoints held back stay pending in
/// memory; the next due checkpoint, ``flushAll()`` or the settle writes them. Time is a monotonic
/// instant so wall-clock jumps do not stall or burst writes.
struct CheckpointCoalescer: Sendable {
    /// A stream: its reservation's id and its request id. The id alone is not enough: SQLite gives the next
    /// reservation the id of a deleted one that had the largest id, so a late call for a settled stream would
    /// otherwise act on the stream that took its id.
    struct StreamID: Hashable, Sendable {
        var reservationID: Int64
        var requestID: String
    }

    /// When a checkpoint is due.
    struct Policy: Sendable, Hashable {
        /// Minimum time between two writes of one stream.
        var interval: Duration
        /// Completion tokens since the last write that make a checkpoint due regardless of time.
        var tokenStride: Int64
    }

    /// What the owner must do after an event.
    enum Action: Sendable, Equatable {
        case write(MeteredUsage)
        case none
    }

    private struct Stream: Sendable {
        var lastWrite: ContinuousClock.Instant
        var lastWrittenCompletionTokens: Int64
        var pending: MeteredUsage?
    }

    let policy: Policy
    private var streams: [StreamID: Stream] = [:]

    init(policy: Policy) { self.policy = policy }

    /// A reservation was written at `now`: that write counts as the stream's first (usage zero).
    mutating func reserved(_ stream: StreamID, at now: ContinuousClock.Instant) {
        streams[stream] = Stream(lastWrite: now, lastWrittenCompletionTokens: 0, pending: nil)
    }

    /// The stream reported `usage` at `now`: write it if due, otherwise keep it pending.
    mutating func checkpoint(_ id: StreamID, usage: MeteredUsage, at now: ContinuousClock.Instant) -> Action {
        // A stream this process did not reserve (or already settled) is not coalesced: write through, and
        // let the database say whether the reservation is open.
        guard var stream = streams[id] else { return .write(usage) }
        let due = now - stream.lastWrite >= policy.interval
            || usage.completionTokens - stream.lastWrittenCompletionTokens >= policy.tokenStride
        if due {
            stream.lastWrite = now
            stream.lastWrittenCompletionTokens = usage.completionTokens
            stream.pending = nil
            streams[id] = stream
            return .write(usage)
        }
        stream.pending = usage
        streams[id] = stream
        return .none
    }

    /// Every pending checkpoint, to write now (at shutdown or on a timer); they count as written at `now`.
    mutating func flushAll(at now: ContinuousClock.Instant) -> [(stream: StreamID, usage: MeteredUsage)] {
        var out: [(StreamID, MeteredUsage)] = []
        for (id, stream) in streams {
            guard let pending = stream.pending else { continue }
            out.append((id, pending))
            streams[id] = Stream(lastWrite: now, lastWrittenCompletionTokens: pending.completionTokens, pending: nil)
        }
        return out.sorted { $0.0.reservationID < $1.0.reservationID }
    }

    /// Writing `usage` failed: hold it as pending again, unless a newer checkpoint is already pending.
    mutating func writeFailed(_ id: StreamID, usage: MeteredUsage) {
        guard var stream = streams[id] else { return }
        if let pending = stream.pending, pending.completionTokens >= usage.completionTokens { return }
        stream.pending = usage
        streams[id] = stream
    }

    /// The stream was settled (or its reservation failed): forget it.
    mutating func ended(_ id: StreamID) {
        streams[id] = nil
    }

    /// Number of streams tracked.
    var streamCount: Int { streams.count }

    /// Whether `id` has a checkpoint held back in memory.
    func hasPending(_ id: StreamID) -> Bool { streams[id]?.pending != nil }
}
