import TokenMeterLedger

/// Writes one stream's ledger checkpoints off the streaming path.
///
/// A checkpoint write waits for SQLite's write lock; while another process holds it (a backup, the CLI,
/// an operator's `BEGIN EXCLUSIVE`), each write waits up to the ledger's busy timeout. Awaiting the write
/// between two deltas would freeze the client's stream for that long at every checkpoint. The pump hands
/// the latest usage to its own task instead: the stream never waits, at most one write per stream is in
/// flight, and usage that arrives while one is running replaces any older usage waiting behind it (the
/// newest checkpoint supersedes older ones). The ledger's coalescer decides, on the streaming task and
/// without waiting, which checkpoints are due; only those wake the writer task (most deltas are held back,
/// and a task switch per delta was a measurable part of the gateway's CPU per chunk).
final class CheckpointPump: Sendable {
    private let usages: AsyncStream<MeteredUsage>.Continuation
    private let store: any GatewayLedger
    private let reservation: Reservation

    /// Starts the writer for `reservation`'s checkpoints.
    init(store: any GatewayLedger, reservation: Reservation) {
        let (stream, usages) = AsyncStream.makeStream(of: MeteredUsage.self, bufferingPolicy: .bufferingNewest(1))
        self.usages = usages
        self.store = store
        self.reservation = reservation
        Task {
            for await usage in stream {
                // A failed checkpoint is not fatal: it is held back again, and the next due one, the background
                // flush or the settle writes it.
                try? await store.writeDueCheckpoint(reservation, usage: usage)
            }
        }
    }

    /// Offers `usage` as the stream's newest checkpoint; queues it for writing if it is due. Never waits.
    func submit(_ usage: MeteredUsage) {
        guard let due = try? store.coalesceCheckpoint(reservation, usage: usage) else { return }
        usages.yield(due)
    }

    /// Takes no more checkpoints. A write in progress ends on its own; the settle that follows supersedes it
    /// (a checkpoint that reaches the ledger after the settle finds no open reservation and changes nothing).
    func finish() {
        usages.finish()
    }
}
