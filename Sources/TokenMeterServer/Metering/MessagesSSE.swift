import Foundation
import Hummingbird
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger

/// Writes a metered stream as Anthropic Messages events (`POST /v1/messages` with `stream: true`).
///
/// An Anthropic upstream's events pass through byte for byte; another upstream's chunks are translated
/// (``MessageAssembler``). TokenMeter writes its own events only where something must change: at a budget cut
/// the trimmed last text delta, `content_block_stop` for what is open, `message_delta` with
/// `stop_reason: "max_tokens"` (and `"tokenmeter": {"cut_by_budget": true, ...}`) and `message_stop`; and an
/// `error` event when the upstream fails mid-stream.
struct MessagesSSE: StreamedAnswer {
    var output: SSEOutput
    private var assembler: MessageAssembler

    init(admitted: AdmittedRequest, writer: any ResponseBodyWriter) {
        output = SSEOutput(writer)
        assembler = MessageAssembler(admitted: admitted)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        var frames = assembler.frames(for: step)
        if case .cut = step {
            frames.append(.comment("tokenmeter: budget exhausted; message ended after \(completionTokens) output tokens"))
            frames += assembler.finish(.cut(completionTokens: completionTokens)).map(\.frame)
        }
        output.append(frames)
    }

    mutating func complete() async throws {
        // An Anthropic upstream ended the message on the wire already; close it only when it did not.
        guard !assembler.stopped else { return }
        try await output.send(assembler.finish(.finished(nil)).map(\.frame))
    }

    mutating func fail(_ error: GatewayError) async {
        try? await output.send(assembler.finish(.failed(error)).map(\.frame))
    }
}
