import Foundation
import Logging
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterLedger

/// The gateway's shared dependencies, composed once per application: the ledger, the catalog, the
/// upstream client and metrics. Routes hold it by value; every member is Sendable.
struct Gateway: Sendable {
    /// The configuration the app was built with.
    let configuration: ServerConfiguration
    /// The ledger (owner role: it recovers interrupted reservations on open).
    let store: SQLiteUsageStore
    /// Models, encodings and prices.
    let catalog: ModelCatalog
    /// The libcurl upstream client.
    let client: ChatClient
    /// Prometheus metrics.
    let metrics: GatewayMetrics
    /// The app logger; requests log through their context's logger (with the request id).
    let logger: Logger
    /// Budget status per user after their last reservation (decides whether the upstream may start early).
    let budgetHints = BudgetHints()

    /// Settles that failed and wait for a retry (see ``UnsettledRequests``).
    let unsettled: UnsettledRequests
    /// The per-key cap on chat requests in flight.
    let concurrency: KeyConcurrencyLimiter
    /// Each client connection's close signal, for the chat route's disconnect watch.
    let connections: ConnectionCloseSignals

    /// How long the end of a response waits for its usage record. Normally the write takes a millisecond and
    /// the response ends after it; when the ledger is locked by another process the write can wait the busy
    /// timeout (behind other queued writes), and the client, which already has all its text and `[DONE]`,
    /// should not wait with it: past this the response ends and the write goes on behind it.
    static let settleWait: Duration = .seconds(1)

    /// Writes the one usage record of `admitted` and updates the metrics. Never throws, and returns within
    /// ``settleWait`` (the write then continues in the background). When the ledger cannot write the record
    /// (locked past the busy timeout, disk full, I/O error), the failure is logged and the settle is retried
    /// by the checkpoint flusher until it succeeds; until then the reservation stays open and keeps its hold
    /// (and a restart settles it as `interrupted`).
    func settle(_ admitted: AdmittedRequest, usage: MeteredUsage, status: UsageStatus, logger: Logger) async {
        let (written, done) = AsyncStream<Void>.makeStream()
        unsettled.attemptStarted()
        // Unstructured: a cancelled request (client gone) must still close its books.
        Task {
            defer {
                unsettled.attemptEnded()
                done.finish()
            }
            do {
                try await settleOnce(admitted, usage: usage, status: status, logger: logger)
            } catch {
                logger.error("settling failed; retrying every checkpoint interval", metadata: ["error": "\(error)"])
                unsettled.add(.init(admitted: admitted, usage: usage, status: status, logger: logger))
            }
        }
        // The wait runs in its own task so a cancelled caller still waits for the write (up to the bound):
        // settling twice (a cancelled path settles again) must find the first record in place.
        await Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in written {} }
                group.addTask { try? await Task.sleep(for: Self.settleWait) }
                await group.next()
                group.cancelAll()
            }
        }.value
    }

    /// At shutdown: waits for settles still being written, then retries the failed ones once more; returns
    /// how many could not be written (the next start settles them as `interrupted`).
    func finishSettles() async -> Int {
        while unsettled.attemptsInFlight > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await retryUnsettled()
    }

    /// Retries the settles that failed; returns how many are still waiting. A settle the ledger refuses for
    /// good (its reservation is no longer open, e.g. settled by an earlier attempt whose answer was lost) is
    /// dropped.
    @discardableResult
    func retryUnsettled() async -> Int {
        for entry in unsettled.takeAll() {
            do {
                try await settleOnce(entry.admitted, usage: entry.usage, status: entry.status, logger: entry.logger)
            } catch LedgerError.reservationNotOpen, LedgerError.invalidUsage {
                entry.logger.error("dropping a settle the ledger refuses", metadata: ["request_id": "\(entry.admitted.requestID)"])
            } catch {
                unsettled.add(entry)
            }
        }
        return unsettled.count
    }

    private func settleOnce(_ admitted: AdmittedRequest, usage: MeteredUsage, status: UsageStatus, logger: Logger) async throws {
        let outcome = try await store.settle(admitted.reservation, usage: usage, status: status)
        if !outcome.wasAlreadySettled { metrics.settled(usage, status: status) }
        logger.info("settled", metadata: [
            "status": "\(status.rawValue)", "model": "\(admitted.requestedModel)",
            "prompt_tokens": "\(usage.promptTokens)", "completion_tokens": "\(usage.completionTokens)",
            "billed_by": "\(usage.billedBy.rawValue)", "cost_pusd": "\(usage.cost.picoUSD)",
        ])
    }

    /// Authenticates `Authorization: Bearer <key>`.
    func authenticate(authorization: String?) async throws(GatewayError) -> AuthenticatedKey {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw .invalidAPIKey("You didn't provide an API key. Send your TokenMeter key as `Authorization: Bearer <key>`.")
        }
        // Without the spaces and tabs around it: Unicode Zs and U+0009, the set Foundation's `.whitespaces` is.
        var trimmed = authorization.dropFirst(7)
        while let c = trimmed.first, c.isWhitespace, !c.isNewline { trimmed.removeFirst() }
        while let c = trimmed.last, c.isWhitespace, !c.isNewline { trimmed.removeLast() }
        let key = String(trimmed)
        do {
            return try await store.authenticate(apiKey: key)
        } catch let error as LedgerError {
            throw .from(error)
        } catch {
            throw GatewayError(.internalServerError, "Authentication failed.", type: "server_error")
        }
    }
}
