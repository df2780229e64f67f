import Foundation
import Testing
@testable import TokenMeterClient
import TokenMeterJSON

@Suite struct WireFormatTests {
    @Test func openAIStreamingBodyForcesStreamAndUsageAndKeepsUnknownFields() throws {
        let original = try ChatRequest(json: Data(#"""
            {"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":false,
             "stream_options":{"include_obfuscation":false},"x_vendor":{"a":[1,2.5,true,null]},"seed":42}
            """#.utf8))
        let sent = try JSONParser.parse(OpenAIWire.requestBody(for: original, stream: true))
        #expect(sent["stream"] == true)
        #expect(sent["stream_options"] == ["include_obfuscation": false, "include_usage": true])
        #expect(sent["x_vendor"] == ["a": [1, 2.5, true, .null]])
        #expect(sent["seed"] == 42)
        #expect(sent["messages"] == [["role": "user", "content": "hi"]])
    }

    @Test func encodedJSONEscapesExactlyWhatJSONRequiresAndReadsBack() throws {
        // Every control character, quotes, backslashes, slashes, non-ASCII and an emoji with ZWJ in one string.
        let text = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + #"a"b\c/d é 中 👩‍💻"#
        #expect(String(decoding: JSONValue.string("q\"\\\n\r\t\u{08}\u{0C}\u{01}\u{1F}/é").encoded(), as: UTF8.self)
                == #""q\"\\\n\r\t\b\f\u0001\u001f/é""#)
        let value: JSONValue = [
            "text": .string(text), "n": 42, "negative": -7, "big": .int(Int64.max), "x": 0.7, "tiny": 1e-5,
            "flags": [true, false, .null], "nested": ["empty": [:], "list": []],
        ]
        let encoded = value.encoded()
        #expect(try JSONParser.parse(encoded) == value)
        // What Foundation reads back as well (the upstream's view).
        let foundation = try #require(try JSONSerialization.jsonObject(with: Data(encoded)) as? [String: Any])
        #expect(foundation["text"] as? String == text)
        #expect((foundation["x"] as? NSNumber)?.doubleValue == 0.7)
        #expect(String(decoding: JSONValue.object(["a": [1, ["b": .null], -2.5]]).encoded(), as: UTF8.self) == #"{"a":[1,{"b":null},-2.5]}"#)
        #expect(JSONValue.double(.nan).encoded() == Array("null".utf8))
        // A whole double stays a number: "100.0".
        #expect((try JSONSerialization.jsonObject(with: Data(JSONValue.array([.double(100)]).encoded())) as? [NSNumber])?.first?.intValue == 100)
    }

    @Test func ollamaBodyTranslatesMessagesOptionsAndFormat() throws {
        let original = try ChatRequest(json: Data(#"""
            {"model":"llama3.2","max_tokens":64,"temperature":0.2,"stop":"END","response_format":{"type":"json_object"},
             "messages":[
               {"role":"user","content":[{"type":"text","text":"what is "},{"type":"text","text":"this?"},
                                         {"type":"image_url","image_url":{"url":"data:image/png;base64,QUJD"}}]},
               {"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function",
                  "function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}]},
               {"role":"tool","content":"sunny","tool_call_id":"call_1"}]}
            """#.utf8))
        let sent = try JSONParser.parse(OllamaWire.requestBody(for: original, stream: true))
        #expect(sent["model"] == "llama3.2")
        #expect(sent["stream"] == true)
        #expect(sent["options"] == ["num_predict": 64, "temperature": 0.2, "stop": ["END"]])
        #expect(sent["format"] == "json")
        guard case .array(let messages)? = sent["messages"] else { Issue.record("no messages"); return }
        #expect(messages[0] == ["role": "user", "content": "what is this?", "images": ["QUJD"]])
        #expect(messages[1]["tool_calls"] == [["function": ["name": "get_weather", "arguments": ["city": "Tokyo"]]]])
        #expect(messages[2] == ["role": "tool", "content": "sunny", "tool_call_id": "call_1"])
    }

    @Test func openAIChunkWithToolCallFragmentsDecodes() throws {
        let chunk = #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#
        let event = try OpenAIWire.event(fromChunk: Array(chunk.utf8), decoder: JSONDecoder())
        #expect(event.toolCalls == [ToolCallDelta(index: 0, id: "call_abc", type: "function", name: "get_weather", arguments: "")])
        #expect(event.raw == Data(chunk.utf8))
        #expect(event.id == "c1")
    }

    @Test func openAIUsageChunkReportsCachedAndReasoningTokens() throws {
        let chunk = #"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":12}}}"#
        let event = try OpenAIWire.event(fromChunk: Array(chunk.utf8), decoder: JSONDecoder())
        #expect(event.choices.isEmpty)
        #expect(event.usage == ChatUsage(promptTokens: 9, completionTokens: 20, totalTokens: 29, cachedTokens: 4, reasoningTokens: 12))
    }

    @Test func ollamaToolCallLineBecomesAWholeToolCallAndFinishesAsToolCalls() throws {
        var toolCallsSeen = false
        let call = #"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false}"#
        let (event, done) = try OllamaWire.event(fromLine: Array(call.utf8), decoder: JSONDecoder(), toolCallsSeen: &toolCallsSeen)
        #expect(!done)
        #expect(event.toolCalls == [ToolCallDelta(index: 0, type: "function", name: "get_weather", arguments: #"{"city":"Tokyo"}"#)])
        let last = #"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":3}"#
        let (final, finalDone) = try OllamaWire.event(fromLine: Array(last.utf8), decoder: JSONDecoder(), toolCallsSeen: &toolCallsSeen)
        #expect(finalDone)
        #expect(final.finishReason == .toolCalls)
        #expect(final.usage == ChatUsage(promptTokens: 0, completionTokens: 3))
    }

    @Test func errorBodiesOfBothProvidersParse() {
        let openAI = #"{"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#
        #expect(ProviderError(body: Data(openAI.utf8)) == ProviderError(message: "Rate limit reached", type: "tokens", code: "rate_limit_exceeded"))
        #expect(ProviderError(body: Data(#"{"error":"model 'x' not found"}"#.utf8)) == ProviderError(message: "model 'x' not found"))
        #expect(ProviderError(body: Data("<html>bad gateway</html>".utf8)) == nil)
    }

    @Test func malformedChunkIsATypedErrorNotACrash() {
        #expect(throws: ChatClientError.malformedStream(line: "{nope", reason: "the SSE data is not a chat.completion.chunk JSON object")) {
            try OpenAIWire.event(fromChunk: Array("{nope".utf8), decoder: JSONDecoder())
        }
    }

    @Test func requestAccessorsReadAndRewriteTheOutputCap() throws {
        var request = try ChatRequest(json: Data(#"{"model":"o3","max_completion_tokens":100,"messages":[]}"#.utf8))
        #expect(request.maxOutputTokens == 100)
        request.maxOutputTokens = 40
        #expect(request.body["max_completion_tokens"] == 40)
        #expect(request.body["max_tokens"] == nil)
        #expect(throws: ChatClientError.invalidRequest(reason: "the request body must be a JSON object")) {
            try ChatRequest(json: Data("[1]".utf8))
        }
    }
}

@Suite struct RequestValidationTests {
    @Test func anAPIKeyWithALineBreakIsRefusedBeforeAnythingIsSent() async throws {
        let client = try ChatClient()
        defer { client.shutdown() }
        let upstream = Upstream(baseURL: "http://127.0.0.1:9/v1", apiKey: "sk-1\r\nX-Evil: 1")
        var iterator = client.stream(ChatRequest(model: "m", messages: []), to: upstream).makeAsyncIterator()
        await #expect(throws: ChatClientError.invalidRequest(reason: "the request header Authorization contains a line break")) {
            _ = try await iterator.next()
        }
    }
}
