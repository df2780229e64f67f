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
    var writer: any ResponseBodyWriter
    private var assembler: MessageAssembler

    init(admitted: AdmittedRequest, writer: any ResponseBodyWriter) {
        self.writer = writer
        assembler = MessageAssembler(admitted: admitted)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        var frames: [SSEFrame] = []
        switch step {
        case .pass(let e), .usage(let e):
            if assembler.native {
                guard let typed = e.typed else { return }
                assembler.observe(typed, usage: e.usage)
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
            frames.append(.comment("tokenmeter: budget exhausted; message ended after \(completionTokens) output tokens"))
            frames += assembler.finish(.cut(completionTokens: completionTokens)).map(Self.frame)
        }
        try await SSEFrame.write(frames, to: &writer)
    }

    mutating func complete() async throws {
        // An Anthropic upstream ended the message on the wire already; close it only when it did not.
        guard !assembler.stopped else { return }
        try await SSEFrame.write(assembler.finish(.finished(nil)).map(Self.frame), to: &writer)
    }

    mutating func fail(_ error: GatewayError) async {
        try? await SSEFrame.write(assembler.finish(.failed(error)).map(Self.frame), to: &writer)
    }

    private static func frame(_ event: MessageAssembler.Event) -> SSEFrame {
        .event(event.type, Data(JSONValue.object(event.object).encoded()))
    }
}

/// Collects a metered stream into one Anthropic message (`POST /v1/messages` without streaming). TokenMeter
/// still streams from the upstream, so metering and the budget cut work as for `stream: true`.
struct MessagesJSON: CollectedAnswer {
    private var assembler: MessageAssembler
    private var cutAfter: Int?
    private(set) var failure: GatewayError?

    init(admitted: AdmittedRequest) {
        assembler = MessageAssembler(admitted: admitted)
    }

    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        switch step {
        case .pass(let e), .usage(let e):
            if assembler.native {
                if let typed = e.typed { assembler.observe(typed, usage: e.usage) }
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

    /// The message, with the usage that was billed: the provider's counts (cache reads and writes apart) when it
    /// reported them, else TokenMeter's.
    func body(billed usage: MeteredUsage) -> Data {
        let counts: JSONValue
        if usage.billedBy == .provider, let provider = assembler.usage {
            counts = MessageAssembler.usage(provider)
        } else {
            counts = ["input_tokens": .int(usage.promptTokens), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                      "output_tokens": .int(usage.completionTokens)]
        }
        return Data(JSONValue.object(assembler.message(usage: counts, cut: cutAfter)).encoded())
    }
}
