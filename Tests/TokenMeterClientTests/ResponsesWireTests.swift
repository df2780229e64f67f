import Foundation
import Testing
import TokenMeterJSON
@testable import TokenMeterClient

/// The Responses events as the client decodes them (event shapes from openai-python 3.63.0's
/// `types/responses`, docs/reference/WIRE-FORMATS.md#openai-responses).
@Suite("Responses wire format")
struct ResponsesWireTests {
    private func event(_ json: String) throws -> ChatEvent { try ResponsesWire.event(fromData: Array(json.utf8)) }

    @Test("a text delta is metered content; the event keeps its type, sequence number and raw bytes")
    func textDelta() throws {
        let json = #"{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi ✓","logprobs":[]}"#
        let e = try event(json)
        #expect(e.content == "Hi ✓")
        #expect(e.typed?.type == "response.output_text.delta")
        #expect(e.typed?.sequenceNumber == 4)
        #expect(e.typed?.contentIndex == 0)
        #expect(e.raw == Data(json.utf8))
    }

    @Test("reasoning text and summary deltas are metered as reasoning; a refusal delta as a refusal")
    func reasoningAndRefusal() throws {
        #expect(try event(#"{"type":"response.reasoning_summary_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"think"}"#).choices.first?.reasoning == "think")
        #expect(try event(#"{"type":"response.reasoning_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"content_index":0,"delta":"more"}"#).choices.first?.reasoning == "more")
        #expect(try event(#"{"type":"response.refusal.delta","sequence_number":5,"item_id":"m","output_index":0,"content_index":0,"delta":"No."}"#).choices.first?.refusal == "No.")
    }

    @Test("a function call's name comes with its item, its arguments with their deltas, both at the item's output index")
    func functionCall() throws {
        let added = try event(#"{"type":"response.output_item.added","sequence_number":2,"output_index":1,"item":{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_9","name":"get_weather"}}"#)
        #expect(added.toolCalls == [ToolCallDelta(index: 1, id: "call_9", type: "function", name: "get_weather", arguments: "")])
        let delta = try event(#"{"type":"response.function_call_arguments.delta","sequence_number":3,"item_id":"fc_1","output_index":1,"delta":"{\"city\""}"#)
        #expect(delta.toolCalls == [ToolCallDelta(index: 1, arguments: #"{"city""#)])
        // The .done events repeat what the deltas delivered: nothing to meter.
        #expect(try event(#"{"type":"response.function_call_arguments.done","sequence_number":4,"item_id":"fc_1","output_index":1,"arguments":"{}"}"#).choices.isEmpty)
        #expect(try event(#"{"type":"response.output_text.done","sequence_number":9,"item_id":"m","output_index":0,"content_index":0,"text":"all of it","logprobs":[]}"#).choices.isEmpty)
    }

    @Test("response.completed carries the usage with cached and reasoning tokens, the served tier and the identity")
    func completed() throws {
        let e = try event(#"{"type":"response.completed","sequence_number":12,"response":{"id":"resp_1","object":"response","created_at":1741476542,"model":"o3-pro","status":"completed","service_tier":"flex","output":[],"usage":{"input_tokens":30,"input_tokens_details":{"cached_tokens":8},"output_tokens":50,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":80}}}"#)
        #expect(e.usage == ChatUsage(promptTokens: 30, completionTokens: 50, totalTokens: 80, cachedTokens: 8, reasoningTokens: 40))
        #expect(e.choices.isEmpty)
        #expect(e.serviceTier == "flex")
        #expect(e.id == "resp_1" && e.model == "o3-pro" && e.created == 1741476542)
        #expect(e.typed?.isTerminal == true)
    }

    @Test("an incomplete response finishes as length; one whose usage has other names is unreadable, not zero")
    func incompleteAndUnreadableUsage() throws {
        let cut = try event(#"{"type":"response.incomplete","sequence_number":7,"response":{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]}}"#)
        #expect(cut.finishReason == .length)
        let odd = try event(#"{"type":"response.completed","sequence_number":7,"response":{"id":"r","status":"completed","output":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}}"#)
        #expect(odd.usage == nil && odd.unreadableUsage)
    }

    @Test("response.failed and a malformed event are typed errors")
    func failures() throws {
        #expect(throws: ChatClientError.providerError(ProviderError(message: "overloaded", code: "server_error"))) {
            try event(#"{"type":"response.failed","sequence_number":3,"response":{"id":"r","status":"failed","error":{"code":"server_error","message":"overloaded"}}}"#)
        }
        #expect(throws: ChatClientError.self) { try event(#"{"sequence_number":1}"#) }
        #expect(throws: ChatClientError.self) { try event("not json") }
    }

    @Test("a Responses stream is complete at its terminal event without [DONE]; cut off before it, it is a lost connection")
    func streamEnd() throws {
        let body = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"r\",\"status\":\"in_progress\",\"output\":[]}}\n\n"
            + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"ok\"}\n\n"
        let end = "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"r\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1,\"total_tokens\":2}}}\n\n"
        var whole = ChatStreamParser(provider: .openAIResponses)
        let events = try Array((body + end).utf8).withUnsafeBytes { try whole.parse($0) }
        #expect(events.compactMap(\.content) == ["ok"])
        #expect(try whole.finish().isEmpty)
        var cut = ChatStreamParser(provider: .openAIResponses)
        _ = try Array(body.utf8).withUnsafeBytes { try cut.parse($0) }
        #expect(throws: ChatClientError.self) { try cut.finish() }
    }

    @Test("the upstream body is the caller's Responses body with stream set, nothing else rewritten")
    func requestBody() throws {
        let request = ChatRequest(body: ["model": "o3-pro", "input": "hi", "store": false, "max_output_tokens": 99])
        let body = try JSONParser.parse(ResponsesWire.requestBody(for: request, stream: true))
        #expect(body == ["model": "o3-pro", "input": "hi", "store": false, "max_output_tokens": 99, "stream": true])
        #expect(Upstream(baseURL: "https://api.openai.com/v1/", provider: .openAIResponses).chatURL == "https://api.openai.com/v1/responses")
    }
}
