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
///
/// A job that finds no batch in flight runs its batch on the caller's own thread (``drainInline(_:)``), so
/// at low load a reservation costs one transaction and no thread hand-over; the batches behind it, which
/// queue up only under load, go to the writer's queue as before.
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
    /// The writer connection's busy timeout (GRDB's `busyMode`), restored after an inline attempt.
    private let busyTimeoutMilliseconds: Int

    init(pool: DatabasePool, busyTimeout: Duration) {
        self.pool = pool
        let (seconds, attoseconds) = busyTimeout.components
        busyTimeoutMilliseconds = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
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
            if startDrain {
                let jobs = takePending()
                if !drainInline(jobs) { drain(jobs) }
            }
        }
    }

    /// Runs `jobs` in one transaction on the calling thread, then hands whatever queued meanwhile to the
    /// writer's queue. Returns false, having run nothing, when the transaction cannot start at once.
    ///
    /// Why on the caller's thread: through the writer's queue a reservation at low load waited about 150 µs
    /// for that idle thread to wake and 50 µs more for its caller to be resumed, as long as the transaction
    /// itself, on every request's time to first token. GRDB's synchronous write runs its block on the calling
    /// thread when the writer is free (`DispatchQueue.sync`); it is free here unless a write outside the
    /// batches (an administrative change, the checkpoint flush) is running, which the call then waits for.
    /// Another process's lock must not hold a pool thread for the busy timeout, so the attempt waits for no
    /// lock (`busy_timeout = 0`): when the transaction cannot begin at once, the batch goes to the writer's
    /// queue, whose transactions wait for the lock as configured.
    private func drainInline(_ jobs: [Job]) -> Bool {
        let transaction: Result<Bool, any Error>
        do {
            transaction = .success(try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA busy_timeout = 0")
                defer { try? db.execute(sql: "PRAGMA busy_timeout = \(busyTimeoutMilliseconds)") }
                do {
                    try db.beginTransaction(.immediate)
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                    return false
                }
                do {
                    for job in jobs { job.run(db) }
                    try db.commit()
                } catch {
                    try? db.rollback()
                    throw error
                }
                return true
            })
        } catch {
            transaction = .failure(error)
        }
        switch transaction {
        case .success(false): return false
        case .success(true): for job in jobs { job.finish(nil) }
        case .failure(let error): for job in jobs { job.finish(error) }
        }
        drain(takePending())
        return true
    }

    /// Runs the next batch on the writer's queue, and from its completion the one after, until no job is
    /// waiting. It never enters Swift's task pool: under load that pool is busy metering streams, and each
    /// pass through its queue (starting a drain task, resuming it after the write) used to wait behind
    /// those jobs, on the time-to-first-token path of every reservation. Now only the callers' own
    /// continuations go back through it.
    private func drain(_ jobs: [Job]) {
        guard !jobs.isEmpty else { return }
        pool.asyncWrite({ db in
            for job in jobs { job.run(db) }
        }, completion: { _, result in
            switch result {
            case .success: for job in jobs { job.finish(nil) }
            case .failure(let error): for job in jobs { job.finish(error) }
            }
            self.drain(self.takePending())
        })
    }

    /// The jobs waiting for the next batch; when none waits, the drain is over (the next job starts one).
    private func takePending() -> [Job] {
        state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            if state.pending.isEmpty { state.draining = false }
            return state.pending
        }
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
