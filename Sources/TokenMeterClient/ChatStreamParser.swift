import Foundation

/// Turns the response body bytes of one streamed chat call into `ChatEvent`s: SSE framing plus
/// the OpenAI chunk format, or NDJSON framing plus Ollama's line format. Knows when the provider
/// said the stream is complete (`data: [DONE]`, or a line with `"done": true`).
struct ChatStreamParser {
    private enum Framing {
        case sse(SSEDecoder)
        case ndjson(NDJSONDecoder)
    }

    private var framing: Framing
    private let decoder = JSONDecoder()
    private var toolCallsSeen = false
    /// The provider marked the end of the stream; later bytes are ignored.
    private(set) var isComplete = false
    /// Some choice reported a finish reason.
    private(set) var sawFinishReason = false

    init(provider: Upstream.Provider) {
        switch provider {
        case .openAICompatible: framing = .sse(SSEDecoder())
        case .ollama: framing = .ndjson(NDJSONDecoder())
        }
    }

    /// Parses the next piece of the body; returns the events it completes.
    mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(ChatClientError) -> [ChatEvent] {
        guard !isComplete else { return [] }
        switch framing {
        case .sse(var sse):
            let messages: [SSEEvent]
            do {
                messages = try sse.feed(bytes)
            } catch {
                throw .malformedStream(line: error.prefix, reason: "an SSE line is longer than \(sse.maxLineBytes) bytes")
            }
            framing = .sse(sse)
            var events: [ChatEvent] = []
            for message in messages where !isComplete {
                if message.data.starts(with: Array("[DONE]".utf8)) {
                    isComplete = true
                } else if message.type == "error" {
                    let error = (try? JSONValue(parsing: Data(message.data))).flatMap { $0["error"] ?? $0 }.flatMap(ProviderError.init(json:))
                    throw .providerError(error ?? ProviderError(message: message.text))
                } else {
                    let event = try OpenAIWire.event(fromChunk: message.data, decoder: decoder)
                    if event.choices.contains(where: { $0.finishReason != nil }) { sawFinishReason = true }
                    events.append(event)
                }
            }
            return events
        case .ndjson(var ndjson):
            let lines: [[UInt8]]
            do {
                lines = try ndjson.feed(bytes)
            } catch {
                throw .malformedStream(line: error.prefix, reason: "an NDJSON line is longer than \(ndjson.maxLineBytes) bytes")
            }
            framing = .ndjson(ndjson)
            return try events(fromLines: lines)
        }
    }

    /// Ends the body. Throws `connectionLost` when the provider never said the stream was
    /// complete and no choice finished (a cut-off stream must not look like a short answer).
    mutating func finish() throws(ChatClientError) -> [ChatEvent] {
        var events: [ChatEvent] = []
        if case .ndjson(var ndjson) = framing, !isComplete {
            let lines = ndjson.finish()
            framing = .ndjson(ndjson)
            events = try self.events(fromLines: lines)
        }
        guard isComplete || sawFinishReason else {
            throw .connectionLost(reason: "the upstream ended the response before the end-of-stream marker")
        }
        return events
    }

    private mutating func events(fromLines lines: [[UInt8]]) throws(ChatClientError) -> [ChatEvent] {
        var events: [ChatEvent] = []
        for line in lines where !isComplete {
            let (event, done) = try OllamaWire.event(fromLine: line, decoder: decoder, toolCallsSeen: &toolCallsSeen)
            if done {
                isComplete = true
                sawFinishReason = true
            }
            events.append(event)
        }
        return events
    }
}
