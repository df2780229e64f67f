import TokenMeterLedger

/// Writes one stream's ledger checkpoints off the streaming path.
///
/// A checkpoint write waits for SQLite's write lock; while another process holds it (a backup, the CLI,
/// an operator's `BEGIN EXCLUSIVE`), each write waits up to the ledger's busy timeout. Awaiting the write
/// between two deltas would freeze the client's stream for that long at every checkpoint. The pump hands
/// the latest usage to its own task instead: the stream never waits, at most one write per stream is in
/// flight, and usage that arrives while one is running replaces any older usage waiting behind it (the
/// newest checkpoint supersedes older ones). The ledger's coalescer still decides which calls are written.
final class CheckpointPump: Sendable {
    private let usages: AsyncStream<MeteredUsage>.Continuation

    /// Starts the writer for `reservation`'s checkpoints.
    init(store: SQLiteUsageStore, reservation: Reservation) {
        let (stream, usages) = AsyncStream.makeStream(of: MeteredUsage.self, bufferingPolicy: .bufferingNewest(1))
        self.usages = usages
        Task {
            for await usage in stream {
                // A failed checkpoint is not fatal: the next one, the background flush or the settle supersedes it.
                _ = try? await store.checkpoint(reservation, usage: usage)
            }
        }
    }

    /// Queues `usage` as the stream's newest checkpoint; never waits.
    func submit(_ usage: MeteredUsage) {
        usages.yield(usage)
    }

    /// Takes no more checkpoints. A write in progress ends on its own; the settle that follows supersedes it
    /// (a checkpoint that reaches the ledger after the settle finds no open reservation and changes nothing).
    func finish() {
        usages.finish()
    }
}
