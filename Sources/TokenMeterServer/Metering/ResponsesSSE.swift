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
    var writer: any ResponseBodyWriter
    private let admitted: AdmittedRequest
    private var assembler: ResponseAssembler
    private var providerUsage: ChatUsage?
    private var completionTokens = 0

    init(admitted: AdmittedRequest, writer: any ResponseBodyWriter) {
        self.admitted = admitted
        self.writer = writer
        assembler = ResponseAssembler(admitted: admitted)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        self.completionTokens = completionTokens
        var frames: [SSEFrame] = []
        switch step {
        case .pass(let e), .usage(let e):
            if let usage = e.usage { providerUsage = usage }
            if assembler.native {
                guard let typed = e.typed else { return }
                assembler.observe(typed)
                frames.append(.event(typed.type, e.raw))
            } else {
                frames = assembler.translate(e).map(Self.frame)
            }
        case .cut(let e, let prefix):
            if assembler.native {
                if let typed = e.typed, let kept = assembler.trimmed(typed, to: prefix) { frames.append(Self.frame(kept)) }
            } else {
                frames = assembler.translateCut(prefix).map(Self.frame)
            }
            frames.append(.comment("tokenmeter: budget exhausted; response ended after \(completionTokens) output tokens"))
            let usage = ResponseAssembler.usage(input: Int64(admitted.promptTokens), output: Int64(completionTokens), cached: nil, reasoning: nil)
            frames += assembler.finish(.cut(completionTokens: completionTokens, usage: usage)).map(Self.frame)
        }
        try await SSEFrame.write(frames, to: &writer)
    }

    mutating func complete() async throws {
        // A Responses upstream ended the response on the wire already; close it only when it did not.
        guard assembler.terminal == nil else { return }
        let usage = providerUsage.map {
            ResponseAssembler.usage(input: Int64($0.promptTokens), output: Int64($0.completionTokens),
                                    cached: $0.cachedTokens.map(Int64.init), reasoning: $0.reasoningTokens.map(Int64.init))
        } ?? ResponseAssembler.usage(input: Int64(admitted.promptTokens), output: Int64(completionTokens), cached: nil, reasoning: nil)
        try await SSEFrame.write(assembler.finish(.finished(nil, usage: usage)).map(Self.frame), to: &writer)
    }

    mutating func fail(_ error: GatewayError) async {
        try? await SSEFrame.write(assembler.finish(.failed(error)).map(Self.frame), to: &writer)
    }

    private static func frame(_ event: ResponseAssembler.Event) -> SSEFrame {
        .event(event.type, Data(JSONValue.object(event.object).encoded()))
    }
}

/// Collects a metered stream into one Responses object (`POST /v1/responses` without streaming). TokenMeter
/// still streams from the upstream, so metering and the budget cut work as for `stream: true`; a Responses
/// upstream's own final object is answered as it is unless the budget cut the response.
struct ResponsesJSON: CollectedAnswer {
    private let admitted: AdmittedRequest
    private var assembler: ResponseAssembler
    private var cutAfter: Int?
    private(set) var failure: GatewayError?

    init(admitted: AdmittedRequest) {
        self.admitted = admitted
        assembler = ResponseAssembler(admitted: admitted)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        switch step {
        case .pass(let e), .usage(let e):
            if assembler.native {
                if let typed = e.typed { assembler.observe(typed) }
            } else {
                _ = assembler.translate(e)
            }
        case .cut(let e, let prefix):
            if assembler.native {
                if let typed = e.typed { _ = assembler.trimmed(typed, to: prefix) }
            } else {
                _ = assembler.translateCut(prefix)
            }
            cutAfter = completionTokens
        }
    }

    mutating func complete() async throws {}

    mutating func fail(_ error: GatewayError) async { failure = error }

    /// The response object, with the usage that was billed (the provider's counts when it reported them, else
    /// TokenMeter's).
    func body(billed usage: MeteredUsage) -> Data {
        let billed = usage.billedBy == .provider ? usage.provider!
            : ProviderUsage(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens)
        let usageJSON = ResponseAssembler.usage(input: billed.promptTokens, output: billed.completionTokens,
                                                cached: billed.cachedTokens, reasoning: billed.reasoningTokens)
        var copy = assembler
        let ending: ResponseAssembler.Ending
        if let cutAfter {
            ending = .cut(completionTokens: cutAfter, usage: usageJSON)
        } else if let terminal = assembler.terminal, let response = terminal.response {
            return Data(JSONValue.object(response).encoded())
        } else {
            ending = .finished(nil, usage: usageJSON)
        }
        let events = copy.finish(ending)
        return Data((events.last?.object["response"] ?? .object([:])).encoded())
    }
}
