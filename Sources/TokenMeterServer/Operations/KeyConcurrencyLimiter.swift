import Synchronization

/// Caps how many chat requests one API key may have in flight (`max_concurrent_requests_per_key`); a
/// request over the cap gets 429 `rate_limit_exceeded` before its body is read, reserves nothing and calls
/// no upstream. No cap when `limit` is nil.
final class KeyConcurrencyLimiter: Sendable {
    /// Requests in flight allowed per key; nil means no cap.
    let limit: Int?
    private let inFlight = Mutex<[Int64: Int]>([:])

    /// A limiter allowing `limit` requests per key at once.
    init(limit: Int?) {
        self.limit = limit
    }

    /// A slot for one request of the key with id `keyID`, or nil when the key already has `limit` requests in
    /// flight. The slot is given back when it is deallocated, so whichever way a request ends (settled,
    /// failed, or its response dropped unwritten) its slot cannot leak.
    func acquire(keyID: Int64) -> Slot? {
        guard let limit else { return Slot(limiter: nil, keyID: keyID) }
        let granted = inFlight.withLock { counts in
            let current = counts[keyID, default: 0]
            guard current < limit else { return false }
            counts[keyID] = current + 1
            return true
        }
        return granted ? Slot(limiter: self, keyID: keyID) : nil
    }

    /// Requests of `keyID` in flight now.
    func inFlight(keyID: Int64) -> Int { inFlight.withLock { $0[keyID, default: 0] } }

    fileprivate func release(keyID: Int64) {
        inFlight.withLock { counts in
            let left = counts[keyID, default: 1] - 1
            counts[keyID] = left > 0 ? left : nil
        }
    }

    /// One request's place under the cap; released on deallocation.
    final class Slot: Sendable {
        private let limiter: KeyConcurrencyLimiter?
        private let keyID: Int64

        fileprivate init(limiter: KeyConcurrencyLimiter?, keyID: Int64) {
            self.limiter = limiter
            self.keyID = keyID
        }

        deinit { limiter?.release(keyID: keyID) }
    }
}
