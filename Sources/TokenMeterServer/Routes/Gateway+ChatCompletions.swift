import Foundation
import Hummingbird
import Logging
import NIOCore
import TokenMeterClient
import TokenMeterLedger

extension Gateway {
    /// `POST /v1/chat/completions`: authenticate, validate, pre-flight and reserve, then stream from the
    /// upstream with live metering. Anything refused before the reservation costs nothing and calls no
    /// upstream; after it, every path ends in exactly one settled usage record.
    func chatCompletions(_ incoming: Request, context: GatewayRequestContext) async throws -> Response {
        let logger = context.logger
        // The client leaving is learnt from its connection's close signal (ClientDisconnectWatch), not by
        // reading the connection, which keeps the connection alive for the client's next request.
        var request = incoming
        let admitted: AdmittedRequest
        let stream: ChatStream
        let started: ContinuousClock.Instant
        // Held until the response is written (or dropped): the key's place under its concurrency cap.
        let slot: KeyConcurrencyLimiter.Slot
        do throws(GatewayError) {
            let key = try await authenticate(authorization: request.headers[.authorization])
            guard let granted = concurrency.acquire(keyID: key.apiKeyID) else {
                throw GatewayError.tooManyConcurrentRequests(limit: concurrency.limit ?? 0)
            }
            slot = granted
            let bytes = try await collectBody(&request)
            let intake = try ChatIntake(bytes: bytes, maxTokensCeiling: configuration.maxTokensCeiling)
            (admitted, stream, started) = try await admit(intake, key: key, logger: logger)
        } catch {
            metrics.rejected()
            logger.info("refused", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? error.type)"])
            throw error
        }
        var requestLogger = logger
        requestLogger[metadataKey: "request_id"] = "\(admitted.requestID)"
        metrics.streamStarted()

        let events = IteratorHandOff(stream)

        let connection = connections.signal(of: context.channel)
        if !admitted.streaming {
            // A client that leaves while the answer is assembled cancels the upstream; the assembler then ends
            // as `client_cancelled` with what it had metered.
            let watch = ClientDisconnectWatch(connection) { stream.cancel() }
            let outcome = await CompletionAssembler(gateway: self, admitted: admitted).run(events: events, stream: stream)
            watch.end()
            await settle(admitted, usage: outcome.usage, status: outcome.status, logger: requestLogger)
            withExtendedLifetime(slot) {}
            switch outcome.result {
            case .success(let body):
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
            case .failure(let error):
                throw error
            }
        }

        // From here until the response ends, a client that closes its connection cancels the upstream at
        // once, also while the upstream has not sent its first event yet (ClientDisconnectWatch).
        let watch = ClientDisconnectWatch(connection) { stream.cancel() }
        let first: ChatEvent?
        do {
            first = try await events.next()
        } catch {
            watch.end()
            events.close()
            if watch.clientClosed, case .cancelled = error {
                requestLogger.info("the client left before the upstream's first event")
                await settle(admitted, usage: .zero, status: .clientCancelled, logger: requestLogger)
                throw GatewayError(.init(code: 499), "The client closed the connection.", type: "server_error",
                                   code: "client_closed_request")
            }
            requestLogger.warning("upstream failed before the first byte", metadata: ["error": "\(error.logDescription)"])
            await settle(admitted, usage: .zero, status: .upstreamError, logger: requestLogger)
            throw GatewayError.from(error)
        }
        metrics.firstEvent(after: .now - started)
        let responder = SSEResponder(gateway: self, admitted: admitted, logger: requestLogger)
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            // The client leaving cancels the upstream stream (the watch), which ends the responder's loop as
            // `client_cancelled`; a failed write ends it the same way. The responder settles before returning.
            await responder.run(first: first, events: events, stream: stream, writer: &writer)
            watch.end()
            try await writer.finish(nil)
            withExtendedLifetime(slot) {}
        })
    }

    /// The request body, at most `bodyLimitBytes` (413 beyond, checked on Content-Length first).
    func collectBody(_ request: inout Request) async throws(GatewayError) -> [UInt8] {
        let limit = configuration.bodyLimitBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw .bodyTooLarge(limit: limit) }
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw .bodyTooLarge(limit: limit)
        } catch {
            throw .badRequest("The request body could not be read: \(error)")
        }
    }
}
