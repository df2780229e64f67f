import Foundation
import Hummingbird
import Logging
import NIOCore
import TokenMeterClient
import TokenMeterLedger

extension Gateway {
    /// The metered routes, under `/v1` behind ``APIKeyMiddleware``: `POST /chat/completions`, `POST /responses`,
    /// `POST /messages` and `POST /messages/count_tokens`.
    func chatRoutes() -> RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.post("chat/completions") { request, context in try await chatCompletions(request, context: context) }
        routes.post("responses") { request, context in try await responses(request, context: context) }
        routes.post("messages") { request, context in try await messages(request, context: context) }
        routes.post("messages/count_tokens") { request, context in try await countTokens(request, context: context) }
        return routes
    }

    /// `POST /v1/messages`: Anthropic's Messages API, metered like chat completions. Passed through to an
    /// Anthropic upstream, translated to chat completions (or Ollama's API) for the others (docs/ANTHROPIC.md).
    func messages(_ incoming: Request, context: GatewayRequestContext) async throws -> Response {
        let ceiling = configuration.maxTokensCeiling
        return try await serveMetered(
            incoming, context: context,
            intake: { bytes throws(GatewayError) in try MessagesRequest.intake(bytes: bytes, maxTokensCeiling: ceiling) },
            collected: { MessagesJSON(admitted: $0) },
            streamed: { MessagesSSE(admitted: $0, writer: $1) })
    }

    /// `POST /v1/messages/count_tokens`: the pre-flight count of a Messages request, `{"input_tokens": N}`, as
    /// TokenMeter holds it: for a Claude model the stand-in count raised by the model's margin (an upper bound
    /// of Anthropic's count, not Anthropic's own). Calls no upstream and costs nothing.
    func countTokens(_ incoming: Request, context: GatewayRequestContext) async throws -> Response {
        _ = try context.requireAPIKey()
        let bytes = try await collectBody(incoming)
        let intake = try MessagesRequest.intake(bytes: bytes, maxTokensCeiling: configuration.maxTokensCeiling, forCounting: true)
        let model = try resolve(intake.model)
        let (_, tokens) = try countPrompt(intake, model: model)
        return Self.json(["input_tokens": .int(tokens)])
    }

    /// `POST /v1/responses`: OpenAI's Responses API, metered like chat completions. Passed through to an
    /// upstream that speaks it, translated to chat completions for one that does not (docs/SERVER.md).
    func responses(_ incoming: Request, context: GatewayRequestContext) async throws -> Response {
        let ceiling = configuration.maxTokensCeiling
        return try await serveMetered(
            incoming, context: context,
            intake: { bytes throws(GatewayError) in try ResponsesRequest.intake(bytes: bytes, maxTokensCeiling: ceiling) },
            collected: { ResponsesJSON(admitted: $0) },
            streamed: { ResponsesSSE(admitted: $0, writer: $1) })
    }

    /// `POST /v1/chat/completions`: authenticate, validate, pre-flight and reserve, then stream from the
    /// upstream with live metering (``serveMetered(_:context:intake:collected:streamed:)``).
    func chatCompletions(_ incoming: Request, context: GatewayRequestContext) async throws -> Response {
        let ceiling = configuration.maxTokensCeiling
        return try await serveMetered(
            incoming, context: context,
            intake: { bytes throws(GatewayError) in try ChatIntake(bytes: bytes, maxTokensCeiling: ceiling) },
            collected: { ChatCompletionJSON(admitted: $0) },
            streamed: { ChatCompletionSSE(admitted: $0, writer: $1) })
    }

    /// Serves one metered request in the wire format its adapters write: authenticate, take the key's place
    /// under its concurrency cap, read and validate the body (`intake`), pre-flight and reserve, then stream
    /// from the upstream with live metering, answering with one object (`collected`, `stream: false`) or with
    /// events (`streamed`). Anything refused before the reservation costs nothing and calls no upstream;
    /// after it, every path ends in exactly one settled usage record.
    func serveMetered<Collected: CollectedAnswer, Streamed: StreamedAnswer>(
        _ incoming: Request, context: GatewayRequestContext,
        intake parse: ([UInt8]) throws(GatewayError) -> ChatIntake,
        collected: (AdmittedRequest) -> Collected,
        streamed: @escaping @Sendable (AdmittedRequest, any ResponseBodyWriter) -> Streamed
    ) async throws -> Response {
        let logger = context.logger
        // The client leaving is learnt from its connection's close signal (ClientDisconnectWatch), not by
        // reading the connection, which keeps the connection alive for the client's next request.
        let admitted: AdmittedRequest
        let stream: ChatStream
        let started: ContinuousClock.Instant
        // Held until the response is written (or dropped): the key's place under its concurrency cap.
        let slot: KeyConcurrencyLimiter.Slot
        do throws(GatewayError) {
            let key = try context.requireAPIKey()
            guard let granted = concurrency.acquire(keyID: key.apiKeyID) else {
                throw GatewayError.tooManyConcurrentRequests(limit: concurrency.limit ?? 0)
            }
            slot = granted
            let bytes = try await collectBody(incoming)
            let intake = try parse(bytes)
            (admitted, stream, started) = try await admit(intake, key: key, requestID: context.requestID, logger: logger)
        } catch {
            metrics.rejected()
            logger.info("refused", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? error.type)"])
            throw error
        }
        let requestLogger = logger
        metrics.streamStarted()

        let driver = MeteredStream(gateway: self, admitted: admitted, stream: stream, events: IteratorHandOff(stream),
                                   logger: requestLogger)
        // From here until the response ends, a client that closes its connection cancels the upstream at
        // once, also while the upstream has not sent its first event yet.
        let watch = ClientDisconnectWatch(connections.signal(of: context.channel)) { stream.cancel() }
        let first: ChatEvent?
        switch await driver.first(clientLeft: { watch.clientClosed }) {
        case .success(let event): first = event
        case .failure(let error):
            watch.end()
            throw error
        }
        metrics.firstEvent(after: .now - started)

        if !admitted.streaming {
            var answer = collected(admitted)
            let outcome = await driver.run(first: first, adapter: &answer)
            watch.end()
            withExtendedLifetime(slot) {}
            if let failure = answer.failure { throw failure }
            var headers: HTTPFields = [.contentType: "application/json"]
            BudgetHeaders.set(admitted.budgetAfter(outcome.usage), on: &headers)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body(billed: outcome.usage))))
        }
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        BudgetHeaders.set(admitted.budgetWhileHeld, on: &headers)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            // The client leaving cancels the upstream stream (the watch), which ends the driver's loop as
            // `client_cancelled`; a failed write ends it the same way. The driver settles before returning.
            var events = streamed(admitted, writer)
            _ = await driver.run(first: first, adapter: &events)
            watch.end()
            try await events.output.finish()
            withExtendedLifetime(slot) {}
        })
    }

    /// The request body, at most `bodyLimitBytes` (413 beyond, checked on Content-Length first).
    func collectBody(_ request: Request) async throws(GatewayError) -> [UInt8] {
        let limit = configuration.bodyLimitBytes
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > limit { throw .bodyTooLarge(limit: limit) }
        // Straight into an array sized by Content-Length: each read is copied once. Accumulating in a ByteBuffer
        // (NIO's `collect(upTo:)`) grew it by doubling and then took one more copy into the array the parser reads.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(declared ?? 0)
        do {
            for try await buffer in request.body {
                guard buffer.readableBytes <= limit - bytes.count else { throw GatewayError.bodyTooLarge(limit: limit) }
                buffer.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
            }
        } catch let error as GatewayError {
            throw error
        } catch {
            throw .badRequest("The request body could not be read: \(error)")
        }
        return bytes
    }

}
