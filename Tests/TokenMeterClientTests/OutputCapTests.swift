import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream
import TokenMeterJSON

extension NetworkTests {
    /// The simulated upstream spends hidden reasoning tokens and honours the request's output cap as OpenAI
    /// does: reasoning first, then visible chunks (one token each) until the cap, then `finish_reason: length`.
    @Suite struct OutputCap {
        /// 50 hidden reasoning tokens, then ten one-token chunks `"t0 "` … `"t9 "`; 9 prompt tokens.
        static let thinker = UpstreamScenario(chunks: (0..<10).map { "t\($0) " }, promptTokens: 9, reasoningTokens: 50)

        func capped(_ key: String, _ cap: Int) -> ChatRequest {
            var r = request(model: "thinker")
            r.body[key] = .int(cap)
            return r
        }

        @Test func maxCompletionTokensCutsTheVisibleAnswerAfterTheReasoning() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(Self.thinker, forModel: "thinker")
                let (events, error) = await collect(client.stream(capped("max_completion_tokens", 55), to: openAI(upstream)))
                #expect(error == nil)
                #expect(events.compactMap(\.content) == ["t0 ", "t1 ", "t2 ", "t3 ", "t4 "])
                #expect(events.compactMap(\.finishReason) == [.length])
                #expect(events.last?.usage == ChatUsage(promptTokens: 9, completionTokens: 55, reasoningTokens: 50))
            }
        }

        @Test func withoutACapTheWholeAnswerComesWithItsReasoningInUsage() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(Self.thinker, forModel: "thinker")
                let (events, error) = await collect(client.stream(request(model: "thinker"), to: openAI(upstream)))
                #expect(error == nil)
                #expect(events.compactMap(\.content).count == 10)
                #expect(events.compactMap(\.finishReason) == [.stop])
                #expect(events.last?.usage == ChatUsage(promptTokens: 9, completionTokens: 60, reasoningTokens: 50))
            }
        }

        @Test func maxTokensIsHonouredAndACapBelowTheReasoningLeavesNoVisibleAnswer() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(Self.thinker, forModel: "thinker")
                var (events, error) = await collect(client.stream(capped("max_tokens", 53), to: openAI(upstream)))
                #expect(error == nil)
                #expect(events.compactMap(\.content) == ["t0 ", "t1 ", "t2 "])
                #expect(events.compactMap(\.finishReason) == [.length])
                #expect(events.last?.usage == ChatUsage(promptTokens: 9, completionTokens: 53, reasoningTokens: 50))

                (events, error) = await collect(client.stream(capped("max_tokens", 30), to: openAI(upstream)))
                #expect(error == nil)
                #expect(events.compactMap(\.content).isEmpty)
                #expect(events.compactMap(\.finishReason) == [.length])
                #expect(events.last?.usage == ChatUsage(promptTokens: 9, completionTokens: 30, reasoningTokens: 30))
            }
        }

        @Test func aNonStreamedAnswerIsCutTheSameWay() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(Self.thinker, forModel: "thinker")
                let completion = try await client.complete(capped("max_completion_tokens", 55), to: openAI(upstream))
                #expect(completion.content == "t0 t1 t2 t3 t4 ")
                #expect(completion.finishReason == .length)
                #expect(completion.usage == ChatUsage(promptTokens: 9, completionTokens: 55, reasoningTokens: 50))
            }
        }

        @Test func ollamaHonoursNumPredictAndHasNoHiddenReasoning() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(Self.thinker, forModel: "thinker")
                // The client sends `max_tokens` to Ollama as `options.num_predict`.
                let (events, error) = await collect(client.stream(capped("max_tokens", 4), to: ollama(upstream)))
                #expect(error == nil)
                let sent = try JSONParser.parse(try #require(upstream.records.first).body)
                #expect(sent["options"]?["num_predict"] == 4)
                #expect(events.compactMap(\.content).joined() == "t0 t1 t2 t3 ")
                #expect(events.last?.finishReason == .length)
                #expect(events.last?.usage == ChatUsage(promptTokens: 9, completionTokens: 4))
            }
        }

        @Test func aFaultStillFiresWithinTheCutAnswer() async throws {
            try await withUpstream { upstream, client in
                var scenario = Self.thinker
                scenario.fault = .dropConnection(afterChunks: 3)
                upstream.setScenario(scenario, forModel: "thinker")
                let (events, error) = await collect(client.stream(capped("max_completion_tokens", 55), to: openAI(upstream)))
                #expect(events.compactMap(\.content) == ["t0 ", "t1 ", "t2 "])
                guard case .connectionLost? = error else { Issue.record("expected connectionLost, got \(String(describing: error))"); return }
            }
        }
    }
}
