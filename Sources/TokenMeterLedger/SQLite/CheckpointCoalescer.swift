/// Decides which checkpoints reach the database: at most one write per stream per `interval`, unless
/// the stream's completion grew by `tokenStride` tokens or more since its last write.
///
/// A plain state machine: the owner (``SQLiteUsageStore``) keeps it under a lock, asks it what to do for
/// each event, and performs the returned write outside the lock. Checkpoints held back stay pending in
/// memory; the next due checkpoint, ``flushAll()`` or the settle writes them. Time is a monotonic
/// instant so wall-clock jumps do not stall or burst writes.
struct CheckpointCoalescer: Sendable {
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
    private var streams: [Int64: Stream] = [:]

    init(policy: Policy) { self.policy = policy }

    /// A reservation was written at `now`: that write counts as the stream's first (usage zero).
    mutating func reserved(_ reservationID: Int64, at now: ContinuousClock.Instant) {
        streams[reservationID] = Stream(lastWrite: now, lastWrittenCompletionTokens: 0, pending: nil)
    }

    /// The stream reported `usage` at `now`: write it if due, otherwise keep it pending.
    mutating func checkpoint(_ reservationID: Int64, usage: MeteredUsage, at now: ContinuousClock.Instant) -> Action {
        // A stream this process did not reserve (or already settled) is not coalesced: write through, and
        // let the database say whether the reservation is open.
        guard var stream = streams[reservationID] else { return .write(usage) }
        let due = now - stream.lastWrite >= policy.interval
            || usage.completionTokens - stream.lastWrittenCompletionTokens >= policy.tokenStride
        if due {
            stream.lastWrite = now
            stream.lastWrittenCompletionTokens = usage.completionTokens
            stream.pending = nil
            streams[reservationID] = stream
            return .write(usage)
        }
        stream.pending = usage
        streams[reservationID] = stream
        return .none
    }

    /// Every pending checkpoint, to write now (at shutdown or on a timer); they count as written at `now`.
    mutating func flushAll(at now: ContinuousClock.Instant) -> [(reservationID: Int64, usage: MeteredUsage)] {
        var out: [(Int64, MeteredUsage)] = []
        for (id, stream) in streams {
            guard let pending = stream.pending else { continue }
            out.append((id, pending))
            streams[id] = Stream(lastWrite: now, lastWrittenCompletionTokens: pending.completionTokens, pending: nil)
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Writing `usage` failed: hold it as pending again, unless a newer checkpoint is already pending.
    mutating func writeFailed(_ reservationID: Int64, usage: MeteredUsage) {
        guard var stream = streams[reservationID] else { return }
        if let pending = stream.pending, pending.completionTokens >= usage.completionTokens { return }
        stream.pending = usage
        streams[reservationID] = stream
    }

    /// The stream was settled (or its reservation failed): forget it.
    mutating func ended(_ reservationID: Int64) {
        streams[reservationID] = nil
    }

    /// Number of streams tracked.
    var streamCount: Int { streams.count }

    /// Whether `reservationID` has a checkpoint held back in memory.
    func hasPending(_ reservationID: Int64) -> Bool { streams[reservationID]?.pending != nil }
}
