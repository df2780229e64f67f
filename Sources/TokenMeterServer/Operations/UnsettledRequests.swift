import Logging
import Synchronization
import TokenMeterLedger

/// Requests that ended but whose usage record the ledger could not write (locked past its busy timeout by
/// another process, disk full, an I/O error). Their reservations stay open, so they keep holding budget;
/// the ``CheckpointFlusher`` retries them every checkpoint interval and once more at shutdown, and settling
/// is idempotent on the request id, so a retry can never write a second record. If the server stops before
/// the ledger takes one, the next start settles it as `interrupted` from its last checkpoint.
final class UnsettledRequests: Sendable {
    /// One settle to retry: what `Gateway.settle` was asked to write.
    struct Entry: Sendable {
        let admitted: AdmittedRequest
        let usage: MeteredUsage
        let status: UsageStatus
        let logger: Logger
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let attempts = Mutex(0)

    /// Remembers a settle to retry (keyed by request id: a later entry replaces an earlier one).
    func add(_ entry: Entry) {
        entries.withLock { $0[entry.admitted.requestID] = entry }
    }

    /// Takes every waiting entry out of the list.
    func takeAll() -> [Entry] {
        entries.withLock { entries in
            defer { entries.removeAll() }
            return Array(entries.values)
        }
    }

    /// How many settles are waiting.
    var count: Int { entries.withLock { $0.count } }

    /// Counts a first settle attempt that is being written (``Gateway/settle(_:usage:status:logger:)``).
    func attemptStarted() { attempts.withLock { $0 += 1 } }

    /// Ends what ``attemptStarted()`` counted.
    func attemptEnded() { attempts.withLock { $0 -= 1 } }

    /// First settle attempts still being written.
    var attemptsInFlight: Int { attempts.withLock { $0 } }
}
