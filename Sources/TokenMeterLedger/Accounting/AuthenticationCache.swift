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
///
/// A key in use is read again in the background once its entry is half its time to live old
/// (``CachedAuthentication``), so a key that keeps sending requests never waits for the database: with entries
/// that simply expired, a client sending one request a second paid a database read on every other request
/// (0.5-0.8 ms on its time to first token).
struct AuthenticationCache: Sendable {
    private struct Entry: Sendable {
        var keySHA256: Data
        var key: AuthenticatedKey
        var expires: ContinuousClock.Instant
        /// From when a hit asks for a background read; nil while one is under way.
        var refreshFrom: ContinuousClock.Instant?
    }

    /// A fresh entry's key, and whether the caller should now read it again in the background (one caller
    /// per entry is asked, until the read stores its answer or fails).
    struct Hit {
        var key: AuthenticatedKey
        var refresh: Bool
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
    mutating func lookup(prefix: String, keySHA256: Data, at now: ContinuousClock.Instant) -> Hit? {
        guard timeToLive > .zero, let entry = entries[prefix], now < entry.expires,
              APIKeyFormat.constantTimeEqual(entry.keySHA256, keySHA256) else { return nil }
        guard let from = entry.refreshFrom, now >= from else { return Hit(key: entry.key, refresh: false) }
        entries[prefix]?.refreshFrom = nil
        return Hit(key: entry.key, refresh: true)
    }

    /// A background read of `prefix` failed: a wrong, revoked or disabled key (`keyIsInvalid`) loses its entry,
    /// so the next request reads the database and gets the error; after any other failure the entry is served
    /// until it expires, and a later hit asks again.
    mutating func refreshFailed(prefix: String, keyIsInvalid: Bool, at now: ContinuousClock.Instant) {
        if keyIsInvalid { entries[prefix] = nil } else if entries[prefix] != nil { entries[prefix]?.refreshFrom = now }
    }

    /// Stores a successful authentication read from the database under `generationAtRead`.
    mutating func store(prefix: String, keySHA256: Data, key: AuthenticatedKey, generationAtRead: UInt64,
                        at now: ContinuousClock.Instant) {
        guard timeToLive > .zero, generationAtRead == generation else { return }
        if entries.count >= capacity {
            entries = entries.filter { now < $0.value.expires }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        }
        entries[prefix] = Entry(keySHA256: keySHA256, key: key, expires: now + timeToLive, refreshFrom: now + timeToLive / 2)
    }

    /// Drops every entry (after a write that may change who authenticates or with which budget).
    mutating func invalidateAll() {
        generation &+= 1
        entries.removeAll(keepingCapacity: true)
    }

    /// Number of entries held (for tests).
    var count: Int { entries.count }
}

/// A ledger that authenticates keys through an ``AuthenticationCache``: the flow both ledgers share.
protocol CachedAuthentication: AnyObject, Sendable {
    /// Runs `body` on the ledger's cache under its lock.
    func withAuthenticationCache<R>(_ body: (inout AuthenticationCache) -> R) -> R
    /// The owner of the key with `prefix` and hash `keySHA256`, read from the database; throws
    /// `.invalidAPIKey`, `.apiKeyRevoked` or `.userDisabled` for a key that does not authenticate.
    func readAuthentication(prefix: String, keySHA256: Data) async throws -> AuthenticatedKey
}

extension CachedAuthentication {
    /// The owner of `apiKey`: from the cache when fresh (and read again in the background once half its time to
    /// live old), else from the database, which also gives the error for a key that does not authenticate.
    func cachedAuthenticate(apiKey: String) async throws -> AuthenticatedKey {
        guard let prefix = APIKeyFormat.prefix(ofKey: apiKey) else { throw LedgerError.invalidAPIKey }
        let presentedHash = APIKeyFormat.hash(ofKey: apiKey)
        let (hit, generation) = withAuthenticationCache { cache in
            (cache.lookup(prefix: prefix, keySHA256: presentedHash, at: .now), cache.generation)
        }
        if let hit {
            if hit.refresh {
                Task { await self.refreshAuthentication(prefix: prefix, keySHA256: presentedHash, generation: generation) }
            }
            return hit.key
        }
        let key = try await readAuthentication(prefix: prefix, keySHA256: presentedHash)
        withAuthenticationCache {
            $0.store(prefix: prefix, keySHA256: presentedHash, key: key, generationAtRead: generation, at: .now)
        }
        return key
    }

    private func refreshAuthentication(prefix: String, keySHA256: Data, generation: UInt64) async {
        do {
            let key = try await readAuthentication(prefix: prefix, keySHA256: keySHA256)
            withAuthenticationCache {
                $0.store(prefix: prefix, keySHA256: keySHA256, key: key, generationAtRead: generation, at: .now)
            }
        } catch {
            let invalid: Bool
            switch error as? LedgerError {
            case .invalidAPIKey?, .apiKeyRevoked?, .userDisabled?: invalid = true
            default: invalid = false
            }
            withAuthenticationCache { $0.refreshFailed(prefix: prefix, keyIsInvalid: invalid, at: .now) }
        }
    }
}
