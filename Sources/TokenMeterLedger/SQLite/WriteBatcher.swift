import GRDB
import Synchronization

/// Group commit: runs the write jobs that arrive while a transaction is in flight together in the next
/// one, each inside its own savepoint.
///
/// All writes of a process go through one SQLite writer, so 50 reservations arriving at once used to queue
/// for 50 transactions (and 50 hops to and from the writer's thread). Here the first job starts a drain
/// on the writer's queue; jobs that arrive meanwhile wait in ``pending`` and the next round takes them all in one
/// `BEGIN IMMEDIATE` transaction. Inside it the jobs run one after another, each in a savepoint, so a job
/// that throws (a refused reservation) rolls back only its own changes, and every job sees the ones
/// before it: the budget checks of a batch are as serial as separate transactions. A job's caller is
/// resumed only after the COMMIT (its result is durable), or with the error if the transaction failed.
final class WriteBatcher: Sendable {
    /// One caller's work: `run` inside the batch transaction, `finish` after it committed (nil) or failed.
    struct Job: Sendable {
        let run: @Sendable (Database) -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var pending: [Job] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `body` in a savepoint of the next batch transaction and returns its value once that
    /// transaction committed. Checks cancellation before queueing; once queued the job runs (a batch is one
    /// short transaction), so a caller never loses track of a write that happened.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try Task.checkCancellation()
        let outcome = Outcome<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    var value: T?
                    do {
                        try db.inSavepoint {
                            value = try body(db)
                            return .commit
                        }
                        outcome.set(.success(value!))
                    } catch {
                        outcome.set(.failure(error))
                    }
                },
                finish: { transactionError in
                    if let transactionError { continuation.resume(throwing: transactionError) }
                    else { continuation.resume(with: outcome.take()) }
                })
            let startDrain = state.withLock { state in
                state.pending.append(job)
                defer { state.draining = true }
                return !state.draining
            }
            if startDrain { drain() }
        }
    }

    /// Runs the next batch on the writer's queue, and from its completion the one after, until no job is
    /// waiting. It never enters Swift's task pool: under load that pool is busy metering streams, and each
    /// pass through its queue (starting a drain task, resuming it after the write) used to wait behind
    /// those jobs, on the time-to-first-token path of every reservation. Now only the callers' own
    /// continuations go back through it.
    private func drain() {
        let jobs = state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            if state.pending.isEmpty { state.draining = false }
            return state.pending
        }
        guard !jobs.isEmpty else { return }
        pool.asyncWrite({ db in
            for job in jobs { job.run(db) }
        }, completion: { _, result in
            switch result {
            case .success: for job in jobs { job.finish(nil) }
            case .failure(let error): for job in jobs { job.finish(error) }
            }
            self.drain()
        })
    }
}

/// The result of one job, set on the writer's thread inside the transaction and taken by `finish` after
/// it, in the transaction's completion on the same queue.
private final class Outcome<T: Sendable>: Sendable {
    private let result = Mutex<Result<T, any Error>?>(nil)
    func set(_ value: Result<T, any Error>) { result.withLock { $0 = value } }
    func take() -> Result<T, any Error> {
        result.withLock { $0 } ?? .failure(LedgerError.storage("a batched write finished without a result"))
    }
}
