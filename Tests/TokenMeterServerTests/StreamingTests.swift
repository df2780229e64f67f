import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer
import TokenMeterJSON

extension ServerTests {
    @Suite("Streaming through the gateway")
    struct StreamingTests {
        @Test("stream: true passes the upstream's text through exactly and settles one completed record billed by the provider", arguments: LedgerKind.available)
        func streamingTextIsExact(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            let key = try await harness.addUser("ann")
            let scenario = UpstreamScenario(chunks: ["Hello", ",", " wörld", " 🌍", "!", " 日本語のテキスト"], promptTokens: 11)
            harness.upstream.setDefaultScenario(scenario)
            let (events, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(error == nil)
            let text = events.compactMap(\.content).joined()
            #expect(text == scenario.text)
            #expect(events.contains { $0.finishReason == .stop })
        let records = try await harness.waitForRecords(user: "ann", count: 1)
            #expect(records.count == 1)
            let local = try Encoding.named(.o200k_base).count(scenario.text)
            #expect(records.first?.status == "completed")
            #expect(records.first?.completionTokens == Int64(local))
            #expect(records.first?.billedBy == "provider")
            #expect(records.first?.providerCompletionTokens == Int64(scenario.chunks.count))
            // TokenMeter asked the upstream for usage even though the client did not.
            let sent = try #require(harness.upstream.records.first)
            let body = try JSONParser.parse(sent.body)
            #expect(body["stream_options"]?["include_usage"]?.boolValue == true)
            #expect(sent.header("authorization") == "Bearer sk-upstream-secret")
            try await harness.stop()
        }

        @Test("fields TokenMeter does not know reach the upstream unchanged: numbers, nesting, escapes, non-ASCII")
        func unknownFieldsPassThrough() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("abe")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"]))
            let request = try ChatRequest(json: Data(#"""
                {"model":"gpt-4o-mini","messages":[{"role":"user","content":"tab\there \"quoted\" \u00e9 中 👩‍💻 \\ / end"}],
                 "temperature":0.7,"top_p":1,"seed":-42,"frequency_penalty":1e-3,"huge":123456789012345678901234567890,
                 "x_vendor":{"list":[1,2.5,true,null,"s"],"empty":{},"none":[]},"stream":true}
                """#.utf8))
            let (_, error) = await collect(harness.client.stream(request, to: harness.gateway(key: key)))
            #expect(error == nil)
            let sent = try JSONParser.parse(try #require(harness.upstream.records.first).body)
            #expect(sent["messages"] == [["role": "user", "content": "tab\there \"quoted\" é 中 👩‍💻 \\ / end"]])
            #expect(sent["temperature"] == 0.7)
            #expect(sent["top_p"] == 1)
            #expect(sent["seed"] == -42)
            // Numbers go upstream as the client wrote them, also beyond what a Double holds exactly.
            #expect(sent["frequency_penalty"] == .number("1e-3"))
            #expect(sent["huge"] == .number("123456789012345678901234567890"))
            #expect(sent["x_vendor"] == ["list": [1, 2.5, true, .null, "s"], "empty": [:], "none": []])
            try await harness.stop()
        }

        @Test("members the gateway does not change go upstream as the client wrote them, spaces and escapes included; the ones it owns are rewritten")
        func unchangedMembersGoUpstreamAsWritten() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("abi")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"]))
            let messages = #"[ {"role": "user",\#n   "content": "caf\u00e9 \/ \"q\" 中"} ]"#
            let vendor = #"{ "n": 1.50, "e": 1E3 }"#
            let body = #"{"model": "gpt-4o-mini", "messages": \#(messages), "x_vendor": \#(vendor), "stream": true, "stream_options": {"include_usage": false}}"#
            let (status, text) = try curl(harness.baseURL + "/v1/chat/completions", key: key, body: Array(body.utf8))
            #expect(status == 200, "\(text)")
            let sent = try #require(harness.upstream.records.first).body
            let sentText = String(decoding: sent, as: UTF8.self)
            #expect(sentText.contains(#""messages":\#(messages)"#), "\(sentText)")
            #expect(sentText.contains(#""x_vendor":\#(vendor)"#), "\(sentText)")
            // What TokenMeter owns is rewritten: it always streams and always asks for usage.
            let parsed = try JSONParser.parse(sent)
            #expect(parsed["stream_options"]?["include_usage"]?.boolValue == true)
            #expect(parsed["messages"]?.arrayValue?.first?["content"]?.stringValue == "café / \"q\" 中")
            try await harness.stop()
        }

        @Test("a 600 KB conversation, sent whole and chunked, reaches the upstream byte for byte and counts the same when re-sent")
        func longConversationIsForwardedAndCountedAlike() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("lia")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"]))
            // Distinct messages, so the first request counts each afresh and the next ones find them in the cache.
            let turns = (0..<100).map { i in
                #"{"role": "user", "content": "Turn \#(i): caf\u00e9 \"q\" 日本語\t"# + String(repeating: "word ", count: 1_200) + #""}"#
            }
            let messages = "[" + turns.joined(separator: ",\n") + "]"
            let body = Array(#"{"model": "gpt-4o-mini", "stream": true, "messages": \#(messages)}"#.utf8)
            #expect(body.count > 600_000)
            for chunked in [false, true, false] {
                let (status, text) = try curl(harness.baseURL + "/v1/chat/completions", key: key, body: body,
                                              headers: chunked ? ["Transfer-Encoding: chunked"] : [])
                #expect(status == 200, "\(text.prefix(300))")
            }
            let sent = harness.upstream.records
            #expect(sent.count == 3)
            for record in sent {
                #expect(String(decoding: record.body, as: UTF8.self).contains(#""messages":\#(messages)"#))
            }
            let records = try await harness.waitForRecords(user: "lia", count: 3)
            let counted = Set(records.map(\.promptTokens))
            #expect(counted.count == 1, "\(counted)")
            #expect((counted.first ?? 0) > 100_000)
            try await harness.stop()
        }

        @Test("the usage chunk reaches the client only when it asked for include_usage")
        func usageChunkOnlyWhenAsked() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("bob")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["a", "b", "c"], promptTokens: 7))
            let url = harness.baseURL + "/v1/chat/completions"
            let plain = try curl(url, key: key, body: Array(#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(plain.status == 200)
            #expect(plain.body.hasSuffix("data: [DONE]\n\n"))
            #expect(!plain.body.contains("prompt_tokens"), "no usage chunk unless asked: \(plain.body)")
            let asked = try curl(url, key: key, body: Array(#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(asked.body.contains(#""choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3"#))
            let records = try await harness.waitForRecords(user: "bob", count: 2)
            #expect(records.map(\.billedBy) == ["provider", "provider"])
            try await harness.stop()
        }

        @Test("an upstream that ignores include_usage is billed by TokenMeter's own count of the streamed text")
        func upstreamWithoutUsageIsBilledLocally() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("eli")
            let scenario = UpstreamScenario(chunks: ["No", " usage", " from", " this", " upstream", "."], promptTokens: 99,
                                            sendsUsage: false)
            harness.upstream.setDefaultScenario(scenario)
            let (events, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(error == nil)
            #expect(events.compactMap(\.content).joined() == scenario.text)
            let encoding = try Encoding.named(.o200k_base)
            let promptTokens = 3 + encoding.count("user") + encoding.count("Say hello") + 3
            let records = try await harness.waitForRecords(user: "eli", count: 1)
            #expect(records.first?.status == "completed")
            #expect(records.first?.billedBy == "local")
            #expect(records.first?.providerCompletionTokens == nil)
            #expect(records.first?.completionTokens == Int64(encoding.count(scenario.text)))
            #expect(records.first?.billedTokens == Int64(promptTokens + encoding.count(scenario.text)))
            try await harness.stop()
        }

        @Test("stream: false returns one chat.completion with the whole text and usage")
        func nonStreaming() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("cat")
            let scenario = UpstreamScenario(chunks: ["The", " answer", " is", " 42."], promptTokens: 5)
            harness.upstream.setDefaultScenario(scenario)
            let completion = try await harness.client.complete(chat(), to: harness.gateway(key: key))
            #expect(completion.content == scenario.text)
            #expect(completion.finishReason == .stop)
            #expect(completion.usage?.completionTokens == 4)
            let records = try await harness.waitForRecords(user: "cat", count: 1)
            #expect(records.map(\.status) == ["completed"])
            try await harness.stop()
        }

        @Test("an Ollama-native upstream is translated to OpenAI chunks")
        func ollamaTranslated() async throws {
            let harness = try await GatewayHarness.start(provider: .ollama)
            let key = try await harness.addUser("dan")
            let scenario = UpstreamScenario(chunks: ["Bonjour", " le", " monde"], promptTokens: 6)
            harness.upstream.setDefaultScenario(scenario)
            let (events, error) = await collect(harness.client.stream(chat("llama3.1", includeUsage: true), to: harness.gateway(key: key)))
            #expect(error == nil)
            #expect(events.compactMap(\.content).joined() == scenario.text)
            #expect(events.first?.role == "assistant")
            #expect(events.compactMap(\.usage).first?.completionTokens == 3)
            #expect(harness.upstream.records.first?.path == "/api/chat")
            let records = try await harness.waitForRecords(user: "dan", count: 1)
            #expect(records.first?.status == "completed")
            #expect(records.first?.billedBy == "provider")
            try await harness.stop()
        }
    }
}
