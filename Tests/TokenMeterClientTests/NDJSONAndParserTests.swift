import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterClient

@Suite struct NDJSONDecoderTests {
    static let stream = Array("{\"a\":\"héllo\"}\r\n\n  \n{\"b\":\"👋\"}\n{\"c\":3}".utf8)

    func decode(_ pieces: [[UInt8]]) throws -> [String] {
        var decoder = NDJSONDecoder()
        var lines = try pieces.flatMap { try decoder.feed($0) }
        lines += decoder.finish()
        return lines.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func linesSplitOnLFDropCRAndSkipBlanksAndKeepAFinalUnterminatedLine() throws {
        #expect(try decode([Self.stream]) == [#"{"a":"héllo"}"#, #"{"b":"👋"}"#, #"{"c":3}"#])
    }

    @Test func everySplitPointGivesTheSameLines() throws {
        let whole = try decode([Self.stream])
        for first in 0...Self.stream.count {
            for second in first...Self.stream.count {
                let pieces = [Array(Self.stream[..<first]), Array(Self.stream[first..<second]), Array(Self.stream[second...])]
                #expect(try decode(pieces) == whole)
            }
        }
    }
}

@Suite struct ChatStreamParserTests {
    /// The example stream of docs/reference/WIRE-FORMATS.md#openai-chat-completions (shaped like
    /// openai-openapi's x-oaiMeta example).
    static let openAIStream = Array(#"""
        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

        data: [DONE]


        """#.utf8)

    func parse(_ pieces: [[UInt8]], provider: Upstream.Provider) throws(ChatClientError) -> [ChatEvent] {
        var parser = ChatStreamParser(provider: provider)
        var events: [ChatEvent] = []
        for piece in pieces {
            let result: Result<[ChatEvent], ChatClientError> = piece.withUnsafeBytes { bytes in
                do throws(ChatClientError) { return .success(try parser.parse(bytes)) } catch { return .failure(error) }
            }
            events += try result.get()
        }
        return events + (try parser.finish())
    }

    @Test func factsExampleStreamDecodesToRoleContentFinishAndUsage() throws {
        let events = try parse([Self.openAIStream], provider: .openAICompatible)
        #expect(events.count == 4)
        #expect(events[0].role == "assistant")
        #expect(events.compactMap(\.content).joined() == "Hello")
        #expect(events[2].finishReason == .stop)
        #expect(events[3].usage == ChatUsage(promptTokens: 9, completionTokens: 1, totalTokens: 10, cachedTokens: 0, reasoningTokens: 0))
        #expect(String(decoding: events[1].raw, as: UTF8.self).hasPrefix(#"{"id":"chatcmpl-123""#))
    }

    @Test("deltas and then an error event in one read: the deltas are kept, then the error")
    func deltasBeforeAnErrorInOneReadAreKept() {
        let lines = Self.openAIStream.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        let body = Array((lines[0] + [10, 10] + lines[1] + [10, 10]
            + Array(#"data: {"error":{"message":"model crashed","type":"server_error"}}"#.utf8) + [10, 10]))
        var parser = ChatStreamParser(provider: .openAICompatible)
        var events: [ChatEvent] = []
        let failure: ChatClientError? = body.withUnsafeBytes { bytes in
            do throws(ChatClientError) { try parser.parse(bytes, into: &events); return nil } catch { return error }
        }
        #expect(events.compactMap(\.content).joined() == "Hello")
        guard case .providerError(let error)? = failure else { Issue.record("expected the provider's error, got \(String(describing: failure))"); return }
        #expect(error.message == "model crashed")
    }

    @Test func factsExampleStreamGivesTheSameEventsUnderRandomSplits() throws {
        let whole = try parse([Self.openAIStream], provider: .openAICompatible)
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<300 {
            #expect(try parse(randomPieces(of: Self.openAIStream, using: &generator), provider: .openAICompatible) == whole)
        }
    }

    @Test func bytesAfterDoneAreIgnored() throws {
        let events = try parse([Self.openAIStream + Array("data: {garbage\n\n".utf8)], provider: .openAICompatible)
        #expect(events.count == 4)
    }

    @Test func aStreamCutBeforeDoneAndFinishIsConnectionLost() {
        let cut = Array(Self.openAIStream.prefix(400))
        #expect(throws: ChatClientError.connectionLost(reason: "the upstream ended the response before the end-of-stream marker")) {
            try parse([cut], provider: .openAICompatible)
        }
    }

    @Test func sseErrorEventTypeIsAProviderError() {
        let stream = Array("event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n".utf8)
        #expect(throws: ChatClientError.providerError(ProviderError(message: "overloaded", type: "server_error"))) {
            try parse([stream], provider: .openAICompatible)
        }
    }
}
