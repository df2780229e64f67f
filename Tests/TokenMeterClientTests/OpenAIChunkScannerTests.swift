import Foundation
import Testing
@testable import TokenMeterClient

/// The chunk scanner must agree with `JSONDecoder` whenever it answers, and decline whatever the decoder
/// rejects.
@Suite("OpenAI chunk scanner")
struct OpenAIChunkScannerTests {
    static let samples: [String] = [
        #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
        #"{"id":"c","choices":[{"index":0,"delta":{"content":"Hello \"world\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 日本 ✓"},"finish_reason":null}],"usage":null}"#,
        #"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#,
        #"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"x":[1,2.5,-3e4,{"a":[true,false,null]}]}}}"#,
        #"{"choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]}"#,
        #"{"choices":[{"delta":{"reasoning_content":"think","refusal":null,"reasoning":"r"}}],"error":null}"#,
        #" { "id" : "spaces" , "choices" : [ { "index" : 0 , "delta" : { "content" : "x" } } ] } "#,
        #"{"choices":[{"message":{"role":"assistant","content":"whole"},"finish_reason":"length"}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"a"}}],"extra":{"nested":{"deep":[[[[]]]]}},"n":-0.5E+3}"#,
        // Declined or rejected:
        #"{"error":{"message":"boom","type":"server_error"}}"#,
        #"{"id":1}"#,
        #"{"choices":[{"index":1.0}]}"#,
        #"{"choices":[{"index":01}]}"#,
        #"{"id":"a","id":"b"}"#,
        #"{"i\u0064":"escaped key"}"#,
        #"{"choices":[{"delta":{"content":"\ud83d"}}]}"#,
        #"{"choices":[{"delta":{"content":"\ude00"}}]}"#,
        "{\"choices\":[{\"delta\":{\"content\":\"tab\tinside\"}}]}",  // a raw tab inside a string
        #"{"choices":[{"delta":{"content":"oops"#,
        #"{"choices":[{"delta":{"content":"x"}}]} trailing"#,
        #"[1,2]"#,
        #"{"usage":{"prompt_tokens":99999999999999999999}}"#,
        #"{"choices":null,"usage":null,"id":null,"model":null}"#,
        #"{}"#,
    ]

    /// What `JSONDecoder` alone makes of the bytes (the path before the scanner existed).
    static func decoded(_ bytes: [UInt8]) -> ChatEvent? {
        guard let chunk = try? JSONDecoder().decode(OpenAIWire.ChunkWire.self, from: Data(bytes)), chunk.error == nil else { return nil }
        return ChatEvent(id: chunk.id, model: chunk.model, choices: (chunk.choices ?? []).map { $0.delta(fallbackIndex: 0) },
                         usage: chunk.usage?.usage, raw: Data(bytes))
    }

    static func scanned(_ bytes: [UInt8]) -> ChatEvent? {
        guard let chunk = OpenAIChunkScanner.chunk(bytes) else { return nil }
        return ChatEvent(id: chunk.id, model: chunk.model, choices: (chunk.choices ?? []).map { $0.delta(fallbackIndex: 0) },
                         usage: chunk.usage?.usage, raw: Data(bytes))
    }

    @Test("the scanner reads the usual chunks exactly as JSONDecoder does")
    func agreesOnUsualChunks() {
        for sample in Self.samples.prefix(9) {
            let bytes = Array(sample.utf8)
            let scanned = Self.scanned(bytes)
            #expect(scanned != nil, "declined: \(sample)")
            #expect(scanned == Self.decoded(bytes), "\(sample)")
        }
    }

    @Test("a key repeated within one object is declined, at any depth; the same key in different objects is read")
    func repeatedKeys() {
        for declined in [
            #"{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}"#,
            #"{"x":1,"choices":[{"index":0,"delta":{"content":"c"}}],"x":4}"#,
            #"{"choices":[{"index":0,"index":1,"delta":{}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":"{}","name":"g"}}]}}]}"#,
        ] {
            #expect(OpenAIChunkScanner.chunk(Array(declined.utf8)) == nil, "\(declined)")
        }
        let nested = Array(#"{"x":1,"xx":0,"choices":[{"x":2,"index":0,"delta":{"x":3,"content":"c"}},{"x":4,"index":1,"delta":{"x":5}}],"x2":6}"#.utf8)
        let scanned = Self.scanned(nested)
        #expect(scanned?.choices.map(\.content) == ["c", nil])
        #expect(scanned == Self.decoded(nested))
    }

    @Test("whenever the scanner answers, on every sample and every truncation of it, JSONDecoder agrees")
    func neverDisagrees() {
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            for end in 0...bytes.count {
                let prefix = Array(bytes[..<end])
                if let scanned = Self.scanned(prefix) {
                    #expect(scanned == Self.decoded(prefix), "\(String(decoding: prefix, as: UTF8.self))")
                }
            }
        }
    }

    @Test("a chunk with an error object still becomes a provider error")
    func errorChunkGoesToDecoder() throws {
        #expect(OpenAIChunkScanner.chunk(Array(Self.samples[9].utf8)) == nil)
        #expect(throws: ChatClientError.self) { try OpenAIWire.event(fromChunk: Array(Self.samples[9].utf8), decoder: JSONDecoder()) }
    }
}

@Suite("OpenAI usage objects")
struct OpenAIUsageObjectTests {
    @Test("usage without prompt_tokens and completion_tokens is unreadable, never zero counts; a full one is read")
    func unreadableUsage() throws {
        let renamed = Array(#"{"id":"c","choices":[],"usage":{"input_tokens":9,"output_tokens":12,"total_tokens":21}}"#.utf8)
        let event = try OpenAIWire.event(fromChunk: renamed, decoder: JSONDecoder())
        #expect(event.usage == nil)
        #expect(event.unreadableUsage)
        let half = Array(#"{"id":"c","choices":[],"usage":{"prompt_tokens":9}}"#.utf8)
        #expect(try OpenAIWire.event(fromChunk: half, decoder: JSONDecoder()).unreadableUsage)
        let none = Array(#"{"id":"c","choices":[],"usage":null}"#.utf8)
        #expect(try !OpenAIWire.event(fromChunk: none, decoder: JSONDecoder()).unreadableUsage)
        let full = Array(#"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12}}"#.utf8)
        let read = try OpenAIWire.event(fromChunk: full, decoder: JSONDecoder())
        #expect(read.usage == ChatUsage(promptTokens: 9, completionTokens: 12))
        #expect(!read.unreadableUsage)
    }

    @Test("the service tier a chunk reports is read (the tier whose prices apply)")
    func serviceTier() throws {
        let chunk = Array(#"{"id":"c","service_tier":"priority","choices":[{"index":0,"delta":{"content":"x"}}]}"#.utf8)
        #expect(try OpenAIWire.event(fromChunk: chunk, decoder: JSONDecoder()).serviceTier == "priority")
        let none = Array(#"{"id":"c","choices":[]}"#.utf8)
        #expect(try OpenAIWire.event(fromChunk: none, decoder: JSONDecoder()).serviceTier == nil)
    }
}

