import Foundation

/// Remembers recent successful authentications for a short time, so a streaming request does not pay a
/// database read to resolve its key.
///
/// A plain state machine: each ledger (``SQLiteUsageStore``, ``PostgresUsageStore``) keeps it under a `Mutex`. An entry is bound to the key's
/// SHA-256 (compared in constant time, as the database path does), lives at most ``timeToLive``, and every
/// administrative write through the same store (revoke, disable, enable, budget change) drops all entries
/// and bumps ``generation``. A database read that began before such a write carries the old generation and
/// is not stored, so a stale answer can never be cached after the write returned.
///
/// What it can serve that is out of date: a change made by *another process* (the CLI beside a running
/// server) for at most ``timeToLive``. Reservations do not rely on it: `reserve` re-checks the user's status
/// and the key's revocation inside its own write transaction.
struct AuthenticationCache: Sendable {
    private struct Entry: Sendable {
        var keySHA256: Data
        var key: AuthenticatedKey
        var expires: ContinuousClock.Instant
    }

    /// How long an entry may be served.
    let timeToLive: Duration
    /// Most entries held; when full, expired ones are dropped, then all.
    let capacity: Int
    /// Bumped by every invalidation; a read stores its answer only if this did not change meanwhile.
    private(set) var generation: UInt64 = 0
    private var entries: [String: Entry] = [:]

    init(timeToLive: Duration, capacity: Int = 10_000) {
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// The cached owner of the key with `prefix` and hash `keySHA256`, if fresh; nil sends the caller to
    /// the database (which also gives the right error for a wrong secret).
    func lookup(prefix: String, keySHA256: Data, at now: ContinuousClock.Instant) -> AuthenticatedKey? {
        guard timeToLive > .zero, let entry = entries[prefix], now < entry.expires,
              APIKeyFormat.constantTimeEqual(entry.keySHA256, keySHA256) else { return nil }
        return entry.key
    }

    /// Stores a successful authentication read from the database under `generationAtRead`.
    mutating func store(prefix: String, keySHA256: Data, key: AuthenticatedKey, generationAtRead: UInt64,
                        at now: ContinuousClock.Instant) {
        guard timeToLive > .zero, generationAtRead == generation else { return }
        if entries.count >= capacity {
            entries = entries.filter { now < $0.value.expires }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        }
        entries[prefix] = Entry(keySHA256: keySHA256, key: key, expires: now + timeToLive)
    }

    /// Drops every entry (after a write that may change who authenticates or with which budget).
    mutating func invalidateAll() {
        generation &+= 1
        entries.removeAll(keepingCapacity: true)
    }

    /// Number of entries held (for tests).
    var count: Int { entries.count }
}
