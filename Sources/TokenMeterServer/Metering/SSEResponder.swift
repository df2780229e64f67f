import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import TokenMeterClient
import TokenMeterLedger
import TokenMeterJSON

/// Writes one metered upstream stream to the client as OpenAI Server-Sent Events, and settles it.
///
/// OpenAI-compatible upstream chunks pass through byte for byte; TokenMeter writes its own chunks only
/// where something must change: the trimmed last delta and the final `finish_reason: "length"` chunk of a
/// budget cut (with `"tokenmeter": {"cut_by_budget": true, ...}` and an SSE comment), the usage chunk
/// (dropped unless the client asked for it), and every chunk of an Ollama-native upstream (translated).
struct SSEResponder {
    let gateway: Gateway
    let admitted: AdmittedRequest
    let logger: Logger

    /// Why the loop stopped.
    private enum End {
        case completed, cut, clientGone, upstreamFailed(ChatClientError), shutdown
    }

    /// Streams `first` and the rest of `events` to `writer` until the upstream ends, the budget is spent,
    /// the client goes away (task cancellation or a failed write), the upstream fails, or the server's
    /// shutdown grace runs out; then writes the usage record. Never throws.
    func run(first: ChatEvent?, events: IteratorHandOff, stream: ChatStream, writer: inout any ResponseBodyWriter) async {
        var pipeline = StreamPipeline(admitted: admitted)
        let shutdownCut = StopFlag()
        let grace = gateway.configuration.shutdownGrace
        let end: End = await withGracefulShutdownHandler {
            await loop(first: first, events: events, stream: stream, pipeline: &pipeline, writer: &writer,
                       shutdownCut: shutdownCut)
        } onGracefulShutdown: {
            Task {
                try? await Task.sleep(for: grace)
                shutdownCut.raise()
                stream.cancel()
            }
        }
        events.close()
        let status: UsageStatus
        switch end {
        case .completed: status = .completed
        case .cut: status = .cutByBudget
        case .clientGone: status = .clientCancelled
        case .upstreamFailed(let error):
            status = .upstreamError
            logger.warning("upstream failed mid-stream", metadata: ["error": "\(error.logDescription)"])
        case .shutdown: status = .interrupted
        }
        let usage = admitted.usage(completionTokens: pipeline.deliveredTokens, provider: pipeline.providerUsage)
        await gateway.settle(admitted, usage: usage, status: status, logger: logger)
    }

    private func loop(first: ChatEvent?, events: IteratorHandOff, stream: ChatStream, pipeline: inout StreamPipeline,
                      writer: inout any ResponseBodyWriter, shutdownCut: StopFlag) async -> End {
        let passThrough = admitted.upstream.provider == .openAICompatible
        let checkpoints = CheckpointPump(store: gateway.store, reservation: admitted.reservation)
        defer { checkpoints.finish() }
        var factory = ChunkFactory(id: admitted.requestID, model: admitted.requestedModel)
        // Pass-through streams need TokenMeter's own chunks only at a budget cut: parse the first chunk's
        // identity then, not for every stream (it is a whole JSON parse).
        var identity = passThrough ? first?.raw : nil
        var sentRole = false
        var next = first
        while let event = next {
            var frames: [SSEFrame] = []
            var cut = false
            switch pipeline.step(for: event) {
            case .pass(let e):
                if passThrough {
                    frames.append(.data(e.raw))
                } else {
                    frames.append(.data(factory.chunk(delta: ChunkFactory.delta(of: e, includeRole: !sentRole, content: e.content ?? ""),
                                                      finishReason: e.finishReason?.rawValue)))
                    sentRole = true
                    if let usage = e.usage, admitted.includeUsage {
                        frames.append(.data(factory.usageChunk(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
                                                               cachedTokens: usage.cachedTokens)))
                    }
                }
            case .usage(let e):
                if admitted.includeUsage, let usage = e.usage {
                    frames.append(.data(passThrough ? e.raw : factory.usageChunk(
                        promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, cachedTokens: usage.cachedTokens)))
                }
            case .cut(let e, let prefix):
                stream.cancel()  // the budget is spent: stop the upstream now, before writing anything more
                cut = true
                if let raw = identity {
                    factory.adopt(raw)
                    identity = nil
                }
                if !prefix.isEmpty {
                    let synthesized = factory.chunk(delta: JSONObject(ChunkFactory.delta(of: e, includeRole: !passThrough && !sentRole, content: prefix)
                                                        .filter { $0.key != "tool_calls" && $0.key != "reasoning" }),
                                                    finishReason: nil)
                    frames.append(.data(passThrough ? ChunkFactory.rewriting(e.raw, content: prefix) ?? synthesized : synthesized))
                }
                frames.append(contentsOf: cutFrames(factory: factory, completionTokens: pipeline.meteredTokens))
            }
            do {
                try await SSEFrame.write(frames, to: &writer)
            } catch {
                stream.cancel()
                return .clientGone
            }
            pipeline.deliveredTokens = pipeline.meteredTokens
            if cut { return .cut }
            checkpoints.submit(admitted.usage(completionTokens: pipeline.deliveredTokens, provider: nil))
            do {
                next = try await events.next()
            } catch {
                if case .cancelled = error {
                    if shutdownCut.isRaised {
                        try? await SSEFrame.write([.data(GatewayError(.serviceUnavailable, "The server is shutting down; "
                            + "the stream was ended after \(pipeline.deliveredTokens) completion tokens.", type: "server_error",
                            code: "server_shutdown").sseErrorPayload)], to: &writer)
                        return .shutdown
                    }
                    return .clientGone
                }
                let mapped = GatewayError.from(error)
                try? await SSEFrame.write([.data(mapped.sseErrorPayload)], to: &writer)
                return .upstreamFailed(error)
            }
        }
        if Task.isCancelled { return .clientGone }
        do { try await SSEFrame.write([.done], to: &writer) } catch { return .clientGone }
        return .completed
    }

    /// The end of a budget-cut stream: an SSE comment, the `length` finish chunk marked as cut by the budget,
    /// the usage chunk if asked for (local counts), and `[DONE]`.
    private func cutFrames(factory: ChunkFactory, completionTokens: Int) -> [SSEFrame] {
        var frames: [SSEFrame] = [
            .comment("tokenmeter: budget exhausted; stream ended after \(completionTokens) completion tokens"),
            .data(factory.chunk(delta: [:], finishReason: "length", extra: [
                "tokenmeter": ["cut_by_budget": true, "completion_tokens": .int(Int64(completionTokens))],
            ])),
        ]
        if admitted.includeUsage {
            frames.append(.data(factory.usageChunk(promptTokens: admitted.promptTokens, completionTokens: completionTokens)))
        }
        frames.append(.done)
        return frames
    }
}

/// One Server-Sent Events frame as OpenAI's stream uses them.
enum SSEFrame {
    /// `data: <json>` and a blank line.
    case data(Data)
    /// `: <text>` and a blank line (a comment; clients ignore it).
    case comment(String)
    /// `data: [DONE]` and a blank line.
    case done

    /// Writes `frames` in one buffer (one socket write).
    static func write(_ frames: [SSEFrame], to writer: inout any ResponseBodyWriter) async throws {
        guard !frames.isEmpty else { return }
        var buffer = ByteBuffer()
        for frame in frames {
            switch frame {
            case .data(let json):
                buffer.writeString("data: ")
                buffer.writeBytes(json)
                buffer.writeString("\n\n")
            case .comment(let text): buffer.writeString(": \(text)\n\n")
            case .done: buffer.writeString("data: [DONE]\n\n")
            }
        }
        try await writer.write(buffer)
    }
}

extension GatewayError {
    /// The mid-stream error event payload, `{"error": {...}}`.
    var sseErrorPayload: Data { body }
}

/// A flag one task raises and another reads (set once, never cleared).
final class StopFlag: Sendable {
    private let raised = Mutex(false)
    /// Raises the flag.
    func raise() { raised.withLock { $0 = true } }
    /// Whether the flag was raised.
    var isRaised: Bool { raised.withLock { $0 } }
}
