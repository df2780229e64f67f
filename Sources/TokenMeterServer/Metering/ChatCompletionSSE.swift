import Foundation
import Hummingbird
import TokenMeterClient
import TokenMeterJSON

/// Writes a metered stream as OpenAI chat-completion Server-Sent Events (`stream: true`).
///
/// OpenAI-compatible upstream chunks pass through byte for byte; TokenMeter writes its own chunks only
/// where something must change: the trimmed last delta and the final `finish_reason: "length"` chunk of a
/// budget cut (with `"tokenmeter": {"cut_by_budget": true, ...}` and an SSE comment), the usage chunk
/// (dropped unless the client asked for it), and every chunk of an Ollama-native or Anthropic upstream (translated).
struct ChatCompletionSSE: StreamedAnswer {
    /// The response body; the route finishes it after the driver returns.
    var output: SSEOutput
    private let admitted: AdmittedRequest
    private let passThrough: Bool
    private var factory: ChunkFactory
    private var adopted = false
    private var sentRole = false

    init(admitted: AdmittedRequest, writer: any ResponseBodyWriter) {
        self.admitted = admitted
        output = SSEOutput(writer)
        passThrough = admitted.upstream.provider == .openAICompatible
        factory = ChunkFactory(id: admitted.requestID, model: admitted.requestedModel)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        var frames: [SSEFrame] = []
        switch step {
        case .pass(let e):
            adoptIdentity(of: e)
            if passThrough {
                frames.append(.data(e.raw))
            } else if !e.choices.isEmpty || e.usage != nil {
                // A translated event that carries nothing (an Anthropic `message_start`, `content_block_stop`, …) writes nothing.
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
            adoptIdentity(of: e)
            if !prefix.isEmpty {
                frames.append(.data(factory.chunk(delta: ChunkFactory.delta(of: e, includeRole: !passThrough && !sentRole, content: prefix,
                                                                            contentOnly: true),
                                                  finishReason: nil)))
            }
            frames += cutFrames(completionTokens: completionTokens)
        }
        output.append(frames)
    }

    mutating func complete() async throws {
        try await output.send([.done])
    }

    mutating func fail(_ error: GatewayError) async {
        try? await output.send([.data(error.body)])
    }

    /// TokenMeter's own chunks carry the upstream's id, created time and model (OpenAI-compatible upstreams).
    private mutating func adoptIdentity(of event: ChatEvent) {
        guard passThrough, !adopted else { return }
        factory.adopt(event)
        adopted = true
    }

    /// The end of a budget-cut stream: an SSE comment, the `length` finish chunk marked as cut by the budget,
    /// the usage chunk if asked for (local counts), and `[DONE]`.
    private func cutFrames(completionTokens: Int) -> [SSEFrame] {
        var frames: [SSEFrame] = [
            .comment("tokenmeter: budget exhausted; stream ended after \(completionTokens) completion tokens"),
            .data(factory.chunk(delta: [:], finishReason: "length", extra: [
                "tokenmeter": ["cut_by_budget": true, "completion_tokens": .int(completionTokens)],
            ])),
        ]
        if admitted.includeUsage {
            frames.append(.data(factory.usageChunk(promptTokens: admitted.promptTokens, completionTokens: completionTokens)))
        }
        frames.append(.done)
        return frames
    }
}

/// One Server-Sent Events frame as OpenAI's streams use them.
enum SSEFrame {
    /// `data: <json>` and a blank line.
    case data(Data)
    /// `: <text>` and a blank line (a comment; clients ignore it).
    case comment(String)
    /// `data: [DONE]` and a blank line.
    case done
    /// `event: <type>`, `data: <json>` and a blank line (a typed event, as the Responses API sends them).
    case event(String, Data)

    /// Appends the frame's bytes to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        switch self {
        case .data(let json):
            buffer.writeString("data: ")
            buffer.writeBytes(json)
            buffer.writeString("\n\n")
        case .comment(let text): buffer.writeString(": \(text)\n\n")
        case .done: buffer.writeString("data: [DONE]\n\n")
        case .event(let type, let json):
            buffer.writeString("event: \(type)\ndata: ")
            buffer.writeBytes(json)
            buffer.writeString("\n\n")
        }
    }
}

/// A streamed answer's response body, with the frames written since the last flush.
///
/// The stream driver flushes after a step only when no further upstream event is already waiting, so a
/// burst of chunks that arrived together (a fast upstream, or a gateway catching up under load) leaves in one
/// socket write instead of one each; a paced stream still sends every chunk as it comes.
struct SSEOutput {
    private var writer: any ResponseBodyWriter
    private var pending = ByteBuffer()

    init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
    }

    mutating func append(_ frames: [SSEFrame]) {
        for frame in frames { frame.write(to: &pending) }
    }

    /// Sends what was appended since the last flush. Throws when the client can no longer be written to.
    mutating func flush() async throws {
        guard pending.readableBytes > 0 else { return }
        let buffer = pending
        pending = ByteBuffer()
        try await writer.write(buffer)
    }

    /// Appends `frames` and flushes: the last frames of an answer, which nothing will follow.
    mutating func send(_ frames: [SSEFrame]) async throws {
        append(frames)
        try await flush()
    }

    /// Flushes and ends the response body.
    consuming func finish() async throws {
        try await flush()
        try await writer.finish(nil)
    }
}
