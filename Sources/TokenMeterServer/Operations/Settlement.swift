import Logging
import Synchronization
import TokenMeterLedger

/// Writes each request's one usage record, and keeps the ones the ledger could not take until it can.
///
/// A settle that fails (the ledger locked past its busy timeout by another process, disk full, an I/O
/// error) leaves its reservation open, so it keeps holding budget; it waits here and is retried on every
/// checkpoint interval (``CheckpointFlusher``) and once more at shutdown. Settling is idempotent on the
/// request id, so a retry can never write a second record. If the server stops before the ledger takes
/// one, the next start settles it as `interrupted` from its last checkpoint.
final class Settlement: Sendable {
    /// One settle: what a request asked to be written.
    struct Entry: Sendable {
        let admitted: AdmittedRequest
        let usage: MeteredUsage
        let status: UsageStatus
        let logger: Logger
    }

    private struct State {
        /// Settles that failed and wait for a retry, by request id (a later one replaces an earlier one).
        var failed: [String: Entry] = [:]
        /// First attempts being written.
        var inFlight = 0
        /// Shutdown, waiting for `inFlight` to reach zero.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How long the end of a response waits for its usage record. Normally the write takes a millisecond and
    /// the response ends after it; when the ledger is locked by another process the write can wait the busy
    /// timeout (behind other queued writes), and the client, which already has all its text and `[DONE]`,
    /// should not wait with it: past this the response ends and the write goes on behind it.
    static let responseWait: Duration = .seconds(1)

    private let store: any GatewayLedger
    private let metrics: GatewayMetrics
    private let alerts: BudgetAlerts?
    private let state = Mutex(State())

    init(store: any GatewayLedger, metrics: GatewayMetrics, alerts: BudgetAlerts? = nil) {
        self.store = store
        self.metrics = metrics
        self.alerts = alerts
    }

    /// Writes the one usage record of `admitted` and updates the metrics. Never throws, and returns within
    /// ``responseWait`` (the write then continues in the background); a failed write is logged and kept
    /// for a retry.
    func settle(_ admitted: AdmittedRequest, usage: MeteredUsage, status: UsageStatus, logger: Logger) async {
        let entry = Entry(admitted: admitted, usage: usage, status: status, logger: logger)
        let (written, done) = AsyncStream<Void>.makeStream()
        state.withLock { $0.inFlight += 1 }
        // Unstructured: a cancelled request (client gone) must still close its books.
        Task {
            defer {
                attemptEnded()
                done.finish()
            }
            do {
                try await write(entry)
            } catch {
                logger.error("settling failed; retrying every checkpoint interval", metadata: ["error": "\(error)"])
                state.withLock { $0.failed[admitted.requestID] = entry }
            }
        }
        // The wait runs in its own task so a cancelled caller still waits for the write (up to the bound):
        // settling twice (a cancelled path settles again) must find the first record in place.
        await Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in written {} }
                group.addTask { try? await Task.sleep(for: Self.responseWait) }
                await group.next()
                group.cancelAll()
            }
        }.value
    }

    /// Retries the settles that failed; returns how many still wait. A settle the ledger refuses for good
    /// (its reservation is no longer open, e.g. settled by an earlier attempt whose answer was lost) is dropped.
    @discardableResult
    func retryFailed() async -> Int {
        let entries = state.withLock { state in
            defer { state.failed.removeAll() }
            return Array(state.failed.values)
        }
        for entry in entries {
            do {
                try await write(entry)
            } catch LedgerError.reservationNotOpen, LedgerError.invalidUsage {
                entry.logger.error("dropping a settle the ledger refuses", metadata: ["request_id": "\(entry.admitted.requestID)"])
            } catch {
                state.withLock { $0.failed[entry.admitted.requestID] = entry }
            }
        }
        return waiting
    }

    /// At shutdown: waits for the settles being written, then retries the failed ones once more; returns
    /// how many could not be written (the next start settles them as `interrupted`).
    func finish() async -> Int {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                if state.inFlight == 0 { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
        return await retryFailed()
    }

    /// Settles that failed and wait for a retry.
    var waiting: Int { state.withLock { $0.failed.count } }

    private func attemptEnded() {
        let waiters = state.withLock { state in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.idleWaiters.removeAll() }
            return state.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func write(_ entry: Entry) async throws {
        let outcome = try await store.settle(entry.admitted.reservation, usage: entry.usage, status: entry.status)
        if !outcome.wasAlreadySettled {
            metrics.settled(entry.usage, status: entry.status)
            alerts?.spendChanged(userID: entry.admitted.key.user.id, budget: entry.admitted.budget.budget)
        }
        entry.logger.info("settled", metadata: [
            "status": "\(entry.status.rawValue)", "model": "\(entry.admitted.requestedModel)",
            "prompt_tokens": "\(entry.usage.promptTokens)", "completion_tokens": "\(entry.usage.completionTokens)",
            "billed_by": "\(entry.usage.billedBy.rawValue)", "cost_pusd": "\(entry.usage.cost.picoUSD)",
        ])
    }
}
