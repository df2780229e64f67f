import Logging
import ServiceLifecycle
import Synchronization
import TokenMeterClient
import TokenMeterLedger

/// The one driver of a metered upstream stream, whatever wire format the client speaks: it reads the
/// upstream's events, meters each through a ``StreamPipeline``, hands the steps to a
/// ``MeteredStreamAdapter`` to write, sends ledger checkpoints, cuts the stream at the budget (cancelling
/// the upstream before anything more is written), notices the client leaving (cancellation or a failed
/// write) and the server shutting down, and settles the one usage record.
struct MeteredStream {
    let gateway: Gateway
    let admitted: AdmittedRequest
    /// The upstream stream (cancelled at a cut, when the client leaves, and at the end of shutdown's grace).
    let stream: ChatStream
    /// Its one iterator.
    let events: IteratorHandOff
    /// The request's logger (with its request id).
    let logger: Logger

    /// How a metered stream ended.
    enum End: Equatable {
        case completed, cut, clientGone, upstreamFailed, shutdown

        /// The usage record's status for this end.
        var status: UsageStatus {
            switch self {
            case .completed: .completed
            case .cut: .cutByBudget
            case .clientGone: .clientCancelled
            case .upstreamFailed: .upstreamError
            case .shutdown: .interrupted
            }
        }
    }

    /// What the stream came to: how it ended and the usage that was settled.
    struct Outcome {
        var end: End
        var usage: MeteredUsage
    }

    /// Waits for the upstream's first event, before anything is sent to the client, so that a failure there
    /// can still be answered with an HTTP status. When there is no first event (the upstream failed, or the
    /// client left first) the request is settled here and the error to answer with is returned. A client
    /// that left has still caused the prompt to be sent upstream: it is billed the prompt.
    func first(clientLeft: () -> Bool) async -> Result<ChatEvent?, GatewayError> {
        do {
            return .success(try await events.next())
        } catch {
            events.close()
            if clientLeft(), case .cancelled = error {
                logger.info("the client left before the upstream's first event")
                await gateway.settlement.settle(admitted, usage: admitted.usage(completionTokens: 0, provider: nil),
                                     status: .clientCancelled, logger: logger)
                return .failure(GatewayError(.init(code: 499), "The client closed the connection.", type: "server_error",
                                             code: "client_closed_request"))
            }
            logger.warning("upstream failed before the first byte", metadata: ["error": "\(error.logDescription)"])
            await gateway.settlement.settle(admitted, usage: .zero, status: .upstreamError, logger: logger)
            return .failure(GatewayError.from(error))
        }
    }

    /// Streams `first` and the rest of the events through `adapter` until the upstream ends, the budget is
    /// spent, the client goes away, the upstream fails, or the server's shutdown grace runs out; then settles.
    /// Never throws.
    func run(first: ChatEvent?, adapter: inout some MeteredStreamAdapter) async -> Outcome {
        var pipeline = StreamPipeline(admitted: admitted)
        let shutdownCut = StopFlag()
        let grace = gateway.configuration.shutdownGrace
        let stream = stream
        let end = await withGracefulShutdownHandler {
            await loop(first: first, pipeline: &pipeline, adapter: &adapter, shutdownCut: shutdownCut)
        } onGracefulShutdown: {
            Task {
                try? await Task.sleep(for: grace)
                shutdownCut.raise()
                stream.cancel()
            }
        }
        events.close()
        if pipeline.sawUnreadableUsage, gateway.unreadableUsageUpstreams.insert(admitted.upstream.name) {
            logger.warning("\(Self.unreadableUsageWarning)", metadata: ["upstream": "\(admitted.upstream.name)"])
        }
        if let served = pipeline.servedTier, pipeline.providerUsage != nil,
           admitted.preflight.price.rates(forPromptTokens: admitted.promptTokens, serviceTier: served) == nil {
            logger.warning("the upstream served a service tier the catalog cannot price; billed at the asked tier's prices",
                           metadata: ["service_tier": "\(served)"])
        }
        let usage = admitted.usage(completionTokens: pipeline.deliveredTokens, provider: pipeline.providerUsage,
                                   servedTier: pipeline.servedTier)
        await gateway.settlement.settle(admitted, usage: usage, status: end.status, logger: logger)
        return Outcome(end: end, usage: usage)
    }

    static let unreadableUsageWarning = "the upstream reported usage without prompt_tokens and completion_tokens; "
        + "billing by the local count (logged once per upstream)"

    private func loop(first: ChatEvent?, pipeline: inout StreamPipeline, adapter: inout some MeteredStreamAdapter,
                      shutdownCut: StopFlag) async -> End {
        let checkpoints = CheckpointPump(store: gateway.store, reservation: admitted.reservation)
        defer { checkpoints.finish() }
        let growth = admitted.holdGrows
            ? HoldGrowth(store: gateway.store, admitted: admitted, policy: gateway.configuration.holds,
                         metrics: gateway.metrics, logger: logger, alerts: gateway.alerts)
            : nil
        var next = first
        while let event = next {
            var decided = pipeline.step(for: event)
            // Past what the stream holds, with a hold that can still grow (the meter's limit is final otherwise).
            while decided == nil, let growth, let needs = pipeline.waiting?.needs {
                // What was written goes out before waiting for the ledger.
                do { try await adapter.flush() } catch {
                    stream.cancel()
                    return .clientGone
                }
                let (held, final) = await growth.waitFor(needs)
                decided = pipeline.resume(limit: held, final: final)
            }
            guard let step = decided else { preconditionFailure("a final limit always decides") }
            // The budget is spent: stop the upstream now, before writing anything more.
            if step.isCut { stream.cancel() }
            do {
                try await adapter.write(step, completionTokens: pipeline.meteredTokens)
                // Events that already arrived go out with this one, in one write; otherwise (or at a cut) it goes now.
                if step.isCut || !events.hasBufferedResult { try await adapter.flush() }
            } catch {
                stream.cancel()
                return .clientGone
            }
            pipeline.deliveredTokens = pipeline.meteredTokens
            if step.isCut { return .cut }
            if let growth { pipeline.holdGrew(to: growth.delivered(pipeline.deliveredTokens)) }
            checkpoints.submit(admitted.usage(completionTokens: pipeline.deliveredTokens, provider: nil))
            do {
                next = try await events.next()
            } catch {
                guard case .cancelled = error else {
                    logger.warning("upstream failed mid-stream", metadata: ["error": "\(error.logDescription)"])
                    await adapter.fail(GatewayError.from(error))
                    return .upstreamFailed
                }
                guard shutdownCut.isRaised else { return .clientGone }
                await adapter.fail(GatewayError(.serviceUnavailable, "The server is shutting down; the stream was ended after "
                    + "\(pipeline.deliveredTokens) completion tokens.", type: "server_error", code: "server_shutdown"))
                return .shutdown
            }
        }
        if Task.isCancelled { return .clientGone }
        do { try await adapter.complete() } catch { return .clientGone }
        return .completed
    }
}

/// A flag one task raises and another reads (set once, never cleared).
final class StopFlag: Sendable {
    private let raised = Mutex(false)
    /// Raises the flag.
    func raise() { raised.withLock { $0 = true } }
    /// Whether the flag was raised.
    var isRaised: Bool { raised.withLock { $0 } }
}
