import Foundation
import Testing
import TokenMeterJSON
@testable import TokenMeterClient

/// Anthropic's stream events as the client decodes them (docs/reference/ANTHROPIC.md).
@Suite("Anthropic wire format")
struct AnthropicWireTests {
    @Test("text, thinking and tool input deltas are metered; message_delta completes the usage begun by message_start")
    func streamEvents() throws {
        var state = AnthropicStreamState()
        func event(_ json: String) throws -> ChatEvent? { try AnthropicWire.event(fromData: Array(json.utf8), state: &state) }
        let start = try #require(try event(#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],"usage":{"input_tokens":500,"cache_creation_input_tokens":300,"cache_read_input_tokens":200,"cache_creation":{"ephemeral_5m_input_tokens":200,"ephemeral_1h_input_tokens":100},"output_tokens":1}}}"#))
        #expect(start.id == "msg_1" && start.model == "claude-haiku-4-5" && start.choices.isEmpty && start.usage == nil)
        #expect(try event(#"{"type": "ping"}"#) == nil)
        #expect(try event(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#)?.content == "Hi")
        #expect(try event(#"{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#)?.choices.first?.reasoning == "hmm")
        let tool = try event(#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"w","input":{}}}"#)
        #expect(tool?.toolCalls == [ToolCallDelta(index: 2, id: "toolu_1", type: "function", name: "w", arguments: "")])
        #expect(try event(#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"c\""}}"#)?.toolCalls
            == [ToolCallDelta(index: 2, arguments: #"{"c""#)])
        let end = try #require(try event(#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}"#))
        #expect(end.finishReason == .toolCalls)
        #expect(end.usage == ChatUsage(promptTokens: 1_000, completionTokens: 42, cachedTokens: 200, cacheWriteTokens: 300, cacheWrite1hTokens: 100))
        #expect(try event(#"{"type":"message_stop"}"#)?.typed?.isTerminal == true)
        #expect(throws: ChatClientError.providerError(ProviderError(message: "Overloaded", type: "overloaded_error"))) {
            try event(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        }
    }

    @Test("the URL and headers: /v1/messages under the root, the key as x-api-key")
    func url() {
        #expect(Upstream(baseURL: "https://api.anthropic.com", provider: .anthropic).chatURL == "https://api.anthropic.com/v1/messages")
        #expect(Upstream(baseURL: "https://proxy.example/v1/", provider: .anthropic).chatURL == "https://proxy.example/v1/messages")
    }
}

/// The chat-to-Messages translation (docs/ANTHROPIC.md, "Translation").
@Suite("Anthropic translation of chat requests")
struct AnthropicTranslationTests {
    @Test("fields at their neutral default pass; the same fields asking for something Anthropic lacks are named")
    func neutralDefaults() throws {
        let base: JSONObject = ["model": "claude-haiku-4-5", "max_tokens": 10, "messages": [["role": "user", "content": "hi"]]]
        var neutral = base
        for (key, value) in ["n": 1, "logprobs": false, "frequency_penalty": 0.0, "presence_penalty": 0] as JSONObject { neutral[key] = value }
        let body = try AnthropicWire.messagesRequest(fromChat: neutral)
        #expect(body["messages"] == [["role": "user", "content": [["type": "text", "text": "hi"]]]])
        for (key, value) in ["n": 2, "logprobs": true, "presence_penalty": 0.5, "seed": 7, "response_format": ["type": "json_object"]] as JSONObject {
            var asking = base
            asking[key] = value
            #expect(throws: UntranslatableField.self) { try AnthropicWire.messagesRequest(fromChat: asking) }
            do { _ = try AnthropicWire.messagesRequest(fromChat: asking) } catch { #expect(error.param == key) }
        }
    }

    @Test("system messages join the system prompt; tool results of consecutive tool messages share one user turn")
    func turns() throws {
        let chat: JSONObject = ["model": "claude-haiku-4-5", "messages": [
            ["role": "system", "content": "A."], ["role": "developer", "content": "B."],
            ["role": "user", "content": "weather?"],
            ["role": "assistant", "content": .null, "tool_calls": [
                ["id": "t1", "type": "function", "function": ["name": "w", "arguments": #"{"c":"R"}"#]],
                ["id": "t2", "type": "function", "function": ["name": "w", "arguments": #"{"c":"P"}"#]]]],
            ["role": "tool", "tool_call_id": "t1", "content": "sun"], ["role": "tool", "tool_call_id": "t2", "content": "rain"],
        ], "stop": "END", "user": "u-1", "parallel_tool_calls": false]
        let body = try AnthropicWire.messagesRequest(fromChat: chat)
        #expect(body["system"]?.stringValue == "A.\n\nB.")
        #expect(body["messages"]?.arrayValue?.map { $0["role"]?.stringValue } == ["user", "assistant", "user"])
        #expect(body["messages"]?.arrayValue?[1]["content"]?.arrayValue?.first?["input"] == ["c": "R"])
        #expect(body["messages"]?.arrayValue?[2]["content"]?.arrayValue?.count == 2)
        #expect(body["stop_sequences"] == ["END"] && body["metadata"] == ["user_id": "u-1"])
        #expect(body["tool_choice"] == ["type": "auto", "disable_parallel_tool_use": true])
    }
}
