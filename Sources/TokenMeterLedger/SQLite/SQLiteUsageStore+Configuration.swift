import Foundation

extension SQLiteUsageStore {
    /// How a process uses the ledger file.
    public enum Role: Sendable, Hashable {
        /// The server: takes the exclusive instance lock (`<db>.lock`) and, on open, settles reservations
        /// a crashed predecessor left open. At most one owner per database file.
        case owner
        /// An admin tool beside a running server: no lock, no recovery (it must not settle the server's
        /// live reservations). It can still reserve and settle, e.g. in tests.
        case administration
    }

    /// SQLite's `PRAGMA synchronous` for the writer connection. See docs/LEDGER-SCHEMA.md for the choice.
    public enum Durability: String, Sendable, Hashable {
        /// WAL commits are fsynced only at WAL checkpoints: every commit survives a process crash
        /// (kill -9) and the file never corrupts, but an OS crash or power loss may roll back the last
        /// commits. The default: `reserve` is on the time-to-first-token path and pays no fsync.
        case normal = "NORMAL"
        /// Every commit is fsynced before it returns: a settled record also survives power loss, at the
        /// price of one fsync per reserve, checkpoint and settle.
        case full = "FULL"
    }

    /// Settings of a ``SQLiteUsageStore``.
    public struct Configuration: Sendable {
        /// Owner (server) or administration (CLI).
        public var role: Role = .owner
        /// Create the database file if it does not exist; when false, opening a missing file throws
        /// `.databaseNotFound`.
        public var createIfMissing = true
        /// `PRAGMA synchronous` of the writer.
        public var durability: Durability = .normal
        /// How long a write waits for another process's lock before failing with `.databaseBusy`.
        public var busyTimeout: Duration = .seconds(5)
        /// Minimum time between two checkpoint writes of one stream.
        public var checkpointInterval: Duration = .seconds(1)
        /// Completion tokens since a stream's last checkpoint write that make the next one due regardless
        /// of time (the "N tokens" of the coalescing rule).
        public var checkpointTokenStride: Int64 = 256
        /// How long a successful authentication is remembered in memory (zero turns the cache off).
        /// Revocations, disables and budget changes made through this store take effect at once; made by
        /// another process (the CLI beside a running server), they reach `authenticate` within this time.
        /// `reserve` always re-checks the key and the user in its transaction, so no money is ever spent on
        /// a revoked key or a disabled user, whatever this is.
        public var authenticationCacheTTL: Duration = .seconds(2)
        /// The wall clock for `*_at` columns and billing months; tests inject a fixed or stepped clock.
        public var now: @Sendable () -> Date = { Date() }

        /// The default settings: owner, create if missing, NORMAL durability, 5 s busy timeout, checkpoints
        /// at most once per second or per 256 tokens per stream.
        public init() {}
    }
}
