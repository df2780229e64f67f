import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream
import TokenMeterJSON

extension NetworkTests {
    @Suite struct NonStreaming {
        @Test func openAICompletionReturnsTextFinishReasonAndUsage() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(chunks: ["Four", " score"], promptTokens: 11), forModel: "m")
                var chatRequest = request(model: "m")
                chatRequest.body["stream_options"] = ["include_usage": true]
                let completion = try await client.complete(chatRequest, to: openAI(upstream))
                #expect(completion.content == "Four score")
                #expect(completion.finishReason == .stop)
                #expect(completion.usage == ChatUsage(promptTokens: 11, completionTokens: 2, reasoningTokens: 0))
                #expect(completion.id == "chatcmpl-simulated")
                let sent = try JSONParser.parse(try #require(upstream.records.first).body)
                #expect(sent["stream"] == false)
                #expect(sent["stream_options"] == nil)
            }
        }

        @Test func ollamaCompletionReturnsTextAndCounts() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(chunks: ["Hallo", " Welt"], promptTokens: 5), forModel: "llama3")
                let completion = try await client.complete(request(model: "llama3"), to: ollama(upstream))
                #expect(completion.content == "Hallo Welt")
                #expect(completion.usage == ChatUsage(promptTokens: 5, completionTokens: 2))
                let sent = try JSONParser.parse(try #require(upstream.records.first).body)
                #expect(sent["stream"] == false)
            }
        }

        @Test func completionErrorStatusIsTyped() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(fault: .status(400, message: "maximum context length is 4097 tokens", type: "invalid_request_error", code: "context_length_exceeded")), forModel: "m")
                await #expect(throws: ChatClientError.httpStatus(
                    code: 400,
                    error: ProviderError(message: "maximum context length is 4097 tokens", type: "invalid_request_error", code: "context_length_exceeded"),
                    body: #"{"error":{"message":"maximum context length is 4097 tokens","type":"invalid_request_error","param":null,"code":"context_length_exceeded"}}"#)
                ) {
                    try await client.complete(request(model: "m"), to: openAI(upstream))
                }
            }
        }
    }
}
