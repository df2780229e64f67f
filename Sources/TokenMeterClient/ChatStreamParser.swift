import Foundation
import TokenMeterJSON

/// Turns the response body bytes of one streamed chat call into `ChatEvent`s: SSE framing plus
/// the OpenAI chunk format or the Responses events, or NDJSON framing plus Ollama's line format. Knows
/// when the provider said the stream is complete (`data: [DONE]`, a Responses terminal event, or a line
/// with `"done": true`).
struct ChatStreamParser {
    // One of the two framings, by provider. Each is its own optional property, mutated in place: held as an
    // enum's payload, every `parse` copied the decoder out and back, so its line and data buffers were
    // shared while it appended to them and were copied (allocated anew) on every read of the body.
    private var sse: SSEDecoder?
    private var ndjson: NDJSONDecoder?
    private let decoder = JSONDecoder()
    private var toolCallsSeen = false
    /// The SSE events are OpenAI Responses events rather than chat-completion chunks.
    private var responses = false
    /// The SSE events are Anthropic Messages events; what `message_start` said, for `message_delta`.
    private var anthropic: AnthropicStreamState?
    /// The provider marked the end of the stream; later bytes are ignored.
    private(set) var isComplete = false
    /// Some choice reported a finish reason.
    private(set) var sawFinishReason = false
    private static let doneMarker = Array("[DONE]".utf8)

    init(provider: Upstream.Provider) {
        switch provider {
        case .openAICompatible: sse = SSEDecoder()
        case .ollama: ndjson = NDJSONDecoder()
        case .openAIResponses:
            sse = SSEDecoder()
            responses = true
        case .anthropic:
            sse = SSEDecoder()
            anthropic = AnthropicStreamState()
        }
    }

    /// Parses the next piece of the body; returns the events it completes.
    mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(ChatClientError) -> [ChatEvent] {
        var events: [ChatEvent] = []
        try parse(bytes, into: &events)
        return events
    }

    /// Parses the next piece of the body, appending the events it completes to `events`. When it throws,
    /// `events` holds those completed before the failure: one read may carry the last deltas and then the
    /// provider's error event, and the deltas were still sent (and billed).
    mutating func parse(_ bytes: UnsafeRawBufferPointer, into events: inout [ChatEvent]) throws(ChatClientError) {
        guard !isComplete else { return }
        if sse != nil {
            let messages: [SSEEvent]
            do {
                messages = try sse!.feed(bytes)
            } catch {
                throw .malformedStream(line: error.prefix, reason: "an SSE line is longer than \(sse!.maxLineBytes) bytes")
            }
            for message in messages where !isComplete {
                if message.data.starts(with: Self.doneMarker) {
                    isComplete = true
                } else if message.type == "error" {
                    let error = (try? JSONParser.parse(message.data)).flatMap { $0["error"] ?? $0 }.flatMap(ProviderError.init(json:))
                    throw .providerError(error ?? ProviderError(message: message.text))
                } else if anthropic != nil {
                    guard let event = try AnthropicWire.event(fromData: message.data, state: &anthropic!) else { continue }
                    if event.choices.contains(where: { $0.finishReason != nil }) { sawFinishReason = true }
                    // An Anthropic stream ends with `message_stop`; no `[DONE]` follows.
                    if event.typed?.isTerminal == true { isComplete = true }
                    events.append(event)
                } else if responses {
                    let event = try ResponsesWire.event(fromData: message.data)
                    if event.typed?.isTerminal == true {
                        // A Responses stream ends with its terminal event; no `[DONE]` follows.
                        isComplete = true
                        sawFinishReason = true
                    }
                    events.append(event)
                } else {
                    let event = try OpenAIWire.event(fromChunk: message.data, decoder: decoder)
                    if event.choices.contains(where: { $0.finishReason != nil }) { sawFinishReason = true }
                    events.append(event)
                }
            }
            return
        }
        let lines: [[UInt8]]
        do {
            lines = try ndjson!.feed(bytes)
        } catch {
            throw .malformedStream(line: error.prefix, reason: "an NDJSON line is longer than \(ndjson!.maxLineBytes) bytes")
        }
        try append(lines: lines, to: &events)
    }

    /// Ends the body. Throws `connectionLost` when the provider never said the stream was
    /// complete and no choice finished (a cut-off stream must not look like a short answer).
    mutating func finish() throws(ChatClientError) -> [ChatEvent] {
        var events: [ChatEvent] = []
        if ndjson != nil, !isComplete {
            try append(lines: ndjson!.finish(), to: &events)
        }
        guard isComplete || sawFinishReason else {
            throw .connectionLost(reason: "the upstream ended the response before the end-of-stream marker")
        }
        return events
    }

    private mutating func append(lines: [[UInt8]], to events: inout [ChatEvent]) throws(ChatClientError) {
        for line in lines where !isComplete {
            let (event, done) = try OllamaWire.event(fromLine: line, decoder: decoder, toolCallsSeen: &toolCallsSeen)
            if done {
                isComplete = true
                sawFinishReason = true
            }
            events.append(event)
        }
    }
}
