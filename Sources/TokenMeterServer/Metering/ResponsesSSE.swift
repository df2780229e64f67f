import Foundation
import Hummingbird
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger

/// Writes a metered stream as OpenAI Responses events (`POST /v1/responses` with `stream: true`):
/// `event: <type>` and `data: <object>` per event, each with its `sequence_number`.
///
/// A Responses upstream's events pass through byte for byte; a chat upstream's chunks are translated
/// (``ResponseAssembler``). TokenMeter writes its own events only where something must change: at a budget
/// cut the trimmed last text delta, the `.done` events of what is open and `response.incomplete` with
/// `incomplete_details.reason: "max_output_tokens"` (and `"tokenmeter": {"cut_by_budget": true, ...}`), and
/// `response.failed` when the upstream fails mid-stream.
struct ResponsesSSE: StreamedAnswer {
    var output: SSEOutput
    private let admitted: AdmittedRequest
    private var assembler: ResponseAssembler
    private var providerUsage: ChatUsage?
    private var completionTokens = 0

    init(admitted: AdmittedRequest, writer: any ResponseBodyWriter) {
        self.admitted = admitted
        output = SSEOutput(writer)
        assembler = ResponseAssembler(admitted: admitted)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        self.completionTokens = completionTokens
        if case .pass(let e) = step, let usage = e.usage { providerUsage = usage }
        if case .usage(let e) = step, let usage = e.usage { providerUsage = usage }
        var frames = assembler.frames(for: step)
        if case .cut = step {
            frames.append(.comment("tokenmeter: budget exhausted; response ended after \(completionTokens) output tokens"))
            let usage = ResponseAssembler.usage(input: Int64(admitted.promptTokens), output: Int64(completionTokens), cached: nil, reasoning: nil)
            frames += assembler.finish(.cut(completionTokens: completionTokens, usage: usage)).map(\.frame)
        }
        output.append(frames)
    }

    mutating func complete() async throws {
        // A Responses upstream ended the response on the wire already; close it only when it did not.
        guard assembler.terminal == nil else { return }
        let usage = providerUsage.map {
            ResponseAssembler.usage(input: Int64($0.promptTokens), output: Int64($0.completionTokens),
                                    cached: $0.cachedTokens.map(Int64.init), reasoning: $0.reasoningTokens.map(Int64.init))
        } ?? ResponseAssembler.usage(input: Int64(admitted.promptTokens), output: Int64(completionTokens), cached: nil, reasoning: nil)
        try await output.send(assembler.finish(.finished(nil, usage: usage)).map(\.frame))
    }

    mutating func fail(_ error: GatewayError) async {
        try? await output.send(assembler.finish(.failed(error)).map(\.frame))
    }
}
