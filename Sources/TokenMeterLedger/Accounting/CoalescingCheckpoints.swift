import Synchronization

/// The checkpoint half of ``UsageStore`` that both ledgers share: checkpoints go through the in-memory
/// ``CheckpointCoalescer`` and only due ones reach the database, through the store's own `writeCheckpoint`.
protocol CoalescingCheckpoints: UsageStore {
    var coalescer: Mutex<CheckpointCoalescer> { get }

    /// Writes one checkpoint now; throws `.reservationNotOpen` when the reservation is settled or gone.
    func writeCheckpoint(reservationID: Int64, requestID: String, usage: MeteredUsage) async throws
}

extension CoalescingCheckpoints {
    @discardableResult
    public func checkpoint(_ reservation: Reservation, usage: MeteredUsage) async throws -> CheckpointOutcome {
        try Task.checkCancellation()
        guard let due = try coalesceCheckpoint(reservation, usage: usage) else { return .coalesced }
        try await writeDueCheckpoint(reservation, usage: due)
        return .written
    }

    /// Offers `usage` to the coalescer and returns it when it is due for writing now, or nil when it is held back
    /// (the next due checkpoint, the background flush or the settle writes it). A streaming loop calls this on
    /// every delta and hands only due checkpoints to a writer task: no task switch per delta.
    public func coalesceCheckpoint(_ reservation: Reservation, usage: MeteredUsage) throws -> MeteredUsage? {
        try usage.validate()
        let action = coalescer.withLock { $0.checkpoint(reservation.streamID, usage: usage, at: .now) }
        guard case .write(let due) = action else { return nil }
        return due
    }

    public func writeDueCheckpoint(_ reservation: Reservation, usage due: MeteredUsage) async throws {
        do {
            try await writeCheckpoint(reservationID: reservation.id, requestID: reservation.requestID, usage: due)
        } catch {
            if case LedgerError.reservationNotOpen = error { throw error }
            // Not written (the database was locked, full or unreachable): keep it pending, so the background flush or
            // a later checkpoint writes it instead of the ledger keeping an older one while the stream is quiet.
            coalescer.withLock { $0.writeFailed(reservation.streamID, usage: due) }
            throw error
        }
    }

    @discardableResult
    public func flushCheckpoints() async throws -> Int {
        let pending = coalescer.withLock { $0.flushAll(at: .now) }
        var written = 0
        for (index, (stream, usage)) in pending.enumerated() {
            do {
                try await writeCheckpoint(reservationID: stream.reservationID, requestID: stream.requestID, usage: usage)
                written += 1
            } catch LedgerError.reservationNotOpen {
                continue
            } catch {
                // This one and the rest stay pending for the next flush.
                coalescer.withLock { c in
                    for (stream, usage) in pending[index...] { c.writeFailed(stream, usage: usage) }
                }
                throw error
            }
        }
        return written
    }
}
