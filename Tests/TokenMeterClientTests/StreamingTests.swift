import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream
import TokenMeterJSON

/// All tests that talk to a test upstream run one at a time: the timing and resource-count tests
/// must not share the process with other traffic.
@Suite(.serialized) struct NetworkTests {}

extension NetworkTests {
    @Suite struct Streaming {
        @Test func openAIStreamDeliversEveryChunkThenUsage() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(chunks: ["Hello", ",", " wörld", " 👋"], promptTokens: 12, cachedTokens: 3), forModel: "m")
                let (events, error) = await collect(client.stream(request(model: "m"), to: openAI(upstream)))
                #expect(error == nil)
                #expect(events.compactMap(\.content).joined() == "Hello, wörld 👋")
                #expect(events.first?.role == "assistant")
                #expect(events.compactMap(\.finishReason) == [.stop])
                #expect(events.last?.usage == ChatUsage(promptTokens: 12, completionTokens: 4, totalTokens: 16, cachedTokens: 3, reasoningTokens: 0))
                #expect(events.count == 6)  // 4 content, 1 finish, 1 usage
                let sent = try JSONParser.parse(try #require(upstream.records.first).body)
                #expect(sent["stream"] == true)
                #expect(sent["stream_options"]?["include_usage"] == true)
                #expect(upstream.records.first?.header("Authorization") == "Bearer sk-test")
            }
        }

        @Test func ollamaStreamDeliversEveryLineWithUsageOnTheLast() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(chunks: ["Bonjour", " à", " tous"], finishReason: "length", promptTokens: 7), forModel: "llama3")
                let (events, error) = await collect(client.stream(request(model: "llama3"), to: ollama(upstream)))
                #expect(error == nil)
                #expect(events.compactMap(\.content).joined() == "Bonjour à tous")
                #expect(events.last?.finishReason == .length)
                #expect(events.last?.usage == ChatUsage(promptTokens: 7, completionTokens: 3))
                #expect(upstream.records.first?.path == "/api/chat")
            }
        }
    }
}
