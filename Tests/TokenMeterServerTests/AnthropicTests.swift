import Foundation
import Testing
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer

/// Which upstream serves a Messages request: Anthropic itself (events pass through) or an OpenAI-compatible
/// server (translated).
enum MessagesMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case anthropic, translated
    var testDescription: String { rawValue }
    var provider: Upstream.Provider { self == .anthropic ? .anthropic : .openAICompatible }
    /// A model the mode serves: a Claude model from Anthropic, an OpenAI one translated.
    var model: String { self == .anthropic ? "claude-haiku-4-5" : "gpt-4o-mini" }
    var upstreamPath: String { self == .anthropic ? "/v1/messages" : "/v1/chat/completions" }
}

/// A Messages request body.
func messagesRequest(_ model: String, text: String = "Say hello", maxTokens: Int = 500, stream: Bool = true,
                     extra: JSONObject = [:]) -> [UInt8] {
    var body: JSONObject = ["model": .string(model), "max_tokens": .int(maxTokens), "stream": .bool(stream),
                            "messages": [["role": "user", "content": .string(text)]]]
    for (key, value) in extra { body[key] = value }
    return JSONValue.object(body).encoded()
}

/// curl with Anthropic's headers: the key as `x-api-key`, an `anthropic-version`.
func anthropicCurl(_ url: String, key: String?, body: [UInt8]) throws -> (status: Int, body: String) {
    try curl(url, key: nil, body: body, headers: (key.map { ["x-api-key: \($0)"] } ?? []) + ["anthropic-version: 2023-06-01"])
}

extension ServerTests {
    @Suite("Anthropic Messages API and Claude models")
    struct AnthropicTests {
        @Test("a streamed message carries the upstream's text in Anthropic's events, with usage and one record",
              arguments: MessagesMode.allCases)
        func streamedMessage(_ mode: MessagesMode) async throws {
            let harness = try await GatewayHarness.start(provider: mode.provider)
            let key = try await harness.addUser("amy")
            var scenario = UpstreamScenario(chunks: ["Hello", ",", " Claude", " ✓"], promptTokens: 1_000, cachedTokens: 200)
            scenario.cacheWriteTokens = 300
            scenario.cacheWrite1hTokens = 100
            harness.upstream.setDefaultScenario(scenario)
            let body = messagesRequest(mode.model, extra: ["system": "Be brief."])
            let answer = try anthropicCurl(harness.baseURL + "/v1/messages", key: key, body: body)
            #expect(answer.status == 200, "\(answer.body)")
            let events = try sseEvents(answer.body)
            let types = events.map(\.type).filter { $0 != "ping" }
            #expect(types.first == "message_start" && types.last == "message_stop")
            #expect(types.contains("content_block_start") && types.contains("content_block_stop") && types.contains("message_delta"))
            let text = events.filter { $0.type == "content_block_delta" }.compactMap { $0.object["delta"]?["text"]?.stringValue }.joined()
            #expect(text == scenario.text)
            let delta = try #require(events.first { $0.type == "message_delta" })
            #expect(delta.object["delta"]?["stop_reason"]?.stringValue == "end_turn")

            let sent = try #require(harness.upstream.records.first)
            #expect(sent.path == mode.upstreamPath)
            let upstreamBody = try JSONParser.parse(sent.body)
            if mode == .anthropic {
                #expect(sent.header("x-api-key") == "sk-upstream-secret" && sent.header("authorization") == nil)
                #expect(sent.header("anthropic-version") == "2023-06-01")
                #expect(upstreamBody["system"]?.stringValue == "Be brief.")
                #expect(upstreamBody["max_tokens"]?.intValue == 500)
            } else {
                #expect(upstreamBody["messages"]?[0] == ["role": "system", "content": "Be brief."])
            }
            let records = try await harness.waitForRecords(user: "amy", count: 1)
            #expect(records.map(\.status) == ["completed"])
            #expect(records.first?.providerCompletionTokens == 4)
            if mode == .anthropic {
                // Haiku 4.5: 500 uncached × $1 + 200 read × $0.10 + 200 five-minute writes × $1.25 + 100 one-hour writes × $2
                // + 4 output × $5, per million tokens.
                let uncached: Int64 = 500 * 1_000_000, read: Int64 = 200 * 100_000
                let written: Int64 = 200 * 1_250_000 + 100 * 2_000_000, output: Int64 = 4 * 5_000_000
                #expect(records.first?.costPicoUSD == uncached + read + written + output)
                #expect(delta.object["usage"]?["output_tokens"]?.intValue == 4)
            }
            try await harness.stop()
        }

        @Test("a message without streaming is one Anthropic message with its usage (cache reads and writes apart)",
              arguments: MessagesMode.allCases)
        func collectedMessage(_ mode: MessagesMode) async throws {
            let harness = try await GatewayHarness.start(provider: mode.provider)
            let key = try await harness.addUser("ben")
            var scenario = UpstreamScenario(chunks: ["One", " answer"], promptTokens: 40, cachedTokens: 10)
            if mode == .anthropic { scenario.cacheWriteTokens = 5 }
            harness.upstream.setDefaultScenario(scenario)
            let answer = try anthropicCurl(harness.baseURL + "/v1/messages", key: key, body: messagesRequest(mode.model, stream: false))
            #expect(answer.status == 200, "\(answer.body)")
            let message = try JSONParser.parse(Data(answer.body.utf8))
            #expect(message["type"]?.stringValue == "message" && message["role"]?.stringValue == "assistant")
            #expect(message["content"] == [["type": "text", "text": "One answer"]])
            #expect(message["stop_reason"]?.stringValue == "end_turn")
            #expect(message["usage"]?["output_tokens"]?.intValue == 2)
            #expect(message["usage"]?["cache_read_input_tokens"]?.intValue == 10)
            #expect(message["usage"]?["cache_creation_input_tokens"]?.intValue == (mode == .anthropic ? 5 : 0))
            #expect(message["usage"]?["input_tokens"]?.intValue == (mode == .anthropic ? 25 : 30))
            try await harness.stop()
        }

        @Test("a Messages client reaches an Ollama upstream: blocks, tools and tool results translated, the answer in Anthropic's shape")
        func messagesToOllama() async throws {
            let harness = try await GatewayHarness.start(provider: .ollama)
            let key = try await harness.addUser("oli")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["Sunny", " in", " Rome"], promptTokens: 30))
            let body: JSONObject = [
                "model": "llama3.1", "max_tokens": 100, "system": [["type": "text", "text": "Be brief."]],
                "tools": [["name": "get_weather", "input_schema": ["type": "object"]]],
                "messages": [
                    ["role": "user", "content": "Weather in Rome?"],
                    ["role": "assistant", "content": [["type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": ["city": "Rome"]]]],
                    ["role": "user", "content": [["type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"]]],
                ],
            ]
            let answer = try anthropicCurl(harness.baseURL + "/v1/messages", key: key, body: JSONValue.object(body).encoded())
            #expect(answer.status == 200, "\(answer.body)")
            let message = try JSONParser.parse(Data(answer.body.utf8))
            #expect(message["content"] == [["type": "text", "text": "Sunny in Rome"]])
            #expect(message["stop_reason"]?.stringValue == "end_turn")
            let sent = try #require(harness.upstream.records.first)
            #expect(sent.path == "/api/chat")
            let upstream = try JSONParser.parse(sent.body)
            #expect(upstream["messages"]?[0] == ["role": "system", "content": "Be brief."])
            #expect(upstream["messages"]?[2]?["tool_calls"]?[0]?["function"]?["name"]?.stringValue == "get_weather")
            #expect(upstream["messages"]?[3]?["role"]?.stringValue == "tool" && upstream["messages"]?[3]?["content"]?.stringValue == "sunny")
            #expect(upstream["tools"]?[0]?["function"]?["name"]?.stringValue == "get_weather")
            let records = try await harness.waitForRecords(user: "oli", count: 1)
            #expect(records.map(\.status) == ["completed"])
            try await harness.stop()
        }

        @Test("a chat-completions client reaches a Claude model: the request is translated to Messages, the stream back to chunks")
        func chatClientReachesClaude() async throws {
            let harness = try await GatewayHarness.start(provider: .anthropic)
            let key = try await harness.addUser("cid")
            var scenario = UpstreamScenario(chunks: ["Bonjour", " ✓"], promptTokens: 12)
            scenario.functionCall = ScriptedFunctionCall(name: "get_weather", callID: "toolu_1", argumentChunks: [#"{"city":"#, #""Paris"}"#])
            harness.upstream.setDefaultScenario(scenario)
            var request = chat("claude-sonnet-4-5", "Hi", includeUsage: true)
            request.body["messages"] = [["role": "system", "content": "Be kind."], ["role": "user", "content": "Hi"]]
            request.body["tools"] = [["type": "function", "function": ["name": "get_weather", "parameters": ["type": "object"]]]]
            let (events, error) = await collect(harness.client.stream(request, to: harness.gateway(key: key)))
            #expect(error == nil)
            #expect(events.compactMap(\.content).joined() == "Bonjour ✓")
            let calls = events.flatMap(\.toolCalls)
            #expect(calls.first?.name == "get_weather" && calls.first?.id == "toolu_1")
            #expect(calls.compactMap(\.arguments).joined() == #"{"city":"Paris"}"#)
            #expect(events.last { $0.finishReason != nil }?.finishReason == .toolCalls)
            #expect(events.last?.usage?.completionTokens == 4)
            let sent = try JSONParser.parse(try #require(harness.upstream.records.first).body)
            #expect(sent["system"]?.stringValue == "Be kind.")
            #expect(sent["messages"] == [["role": "user", "content": [["type": "text", "text": "Hi"]]]])
            #expect(sent["tools"]?[0]?["name"]?.stringValue == "get_weather")
            #expect(sent["max_tokens"]?.intValue == 64_000)  // the model's own output limit: Anthropic requires one
            let records = try await harness.waitForRecords(user: "cid", count: 1)
            #expect(records.first?.billedBy == "provider" && (records.first?.costPicoUSD ?? 0) > 0)
            // The record's local counts are stand-in counts, and the caller's usage says so.
            let usage = try JSONParser.parse(Data(try curl(harness.baseURL + "/v1/usage", method: "GET", key: key).body.utf8))
            #expect(usage["models"]?.arrayValue?.first?["local_count"]?.stringValue == "approximate")
            try await harness.stop()
        }

        @Test("a Responses client reaches a Claude model: its request is translated to Messages, the events back to Responses events")
        func responsesClientReachesClaude() async throws {
            let harness = try await GatewayHarness.start(provider: .anthropic)
            let key = try await harness.addUser("rae")
            let scenario = UpstreamScenario(chunks: ["Claude", " answers", " ✓"], promptTokens: 15)
            harness.upstream.setDefaultScenario(scenario)
            let body = responsesRequest("claude-haiku-4-5", extra: ["instructions": "Be brief.", "max_output_tokens": 300])
            let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(body.encoded()))
            #expect(answer.status == 200, "\(answer.body)")
            let events = try sseEvents(answer.body)
            #expect(events.first?.type == "response.created" && events.last?.type == "response.completed")
            #expect(events.filter { $0.type == "response.output_text.delta" }.compactMap { $0.object["delta"]?.stringValue }.joined() == scenario.text)
            #expect(events.last?.object["response"]?["usage"]?["output_tokens"]?.intValue == 3)
            let sent = try #require(harness.upstream.records.first)
            #expect(sent.path == "/v1/messages")
            let upstreamBody = try JSONParser.parse(sent.body)
            #expect(upstreamBody["system"]?.stringValue == "Be brief." && upstreamBody["max_tokens"]?.intValue == 300)
            let records = try await harness.waitForRecords(user: "rae", count: 1)
            #expect(records.first?.billedBy == "provider" && records.first?.providerCompletionTokens == 3)
            try await harness.stop()
        }

        @Test("a budget cut on a Claude stream ends with stop_reason max_tokens, cancels the upstream, and spends no more than the budget",
              arguments: [true, false])
        func budgetCut(_ streaming: Bool) async throws {
            let harness = try await GatewayHarness.start(provider: .anthropic)
            // Haiku 4.5 at $1 in / $5 out per million: $0.0004 pays the prompt and a few dozen output tokens.
            let limit = Money(picoUSD: 400_000_000)
            let key = try await harness.addUser("dee", budget: Budget(monthlyLimit: limit))
            let scenario = UpstreamScenario(chunks: (0..<300).map { "word\($0) and ✓ " }, interval: .milliseconds(5), promptTokens: 20)
            harness.upstream.setDefaultScenario(scenario)
            let answer = try anthropicCurl(harness.baseURL + "/v1/messages", key: key,
                                           body: messagesRequest("claude-haiku-4-5", maxTokens: 4000, stream: streaming))
            #expect(answer.status == 200, "\(answer.body)")
            let delivered: String
            if streaming {
                let events = try sseEvents(answer.body)
                delivered = events.filter { $0.type == "content_block_delta" }.compactMap { $0.object["delta"]?["text"]?.stringValue }.joined()
                let delta = try #require(events.last { $0.type == "message_delta" })
                #expect(delta.object["delta"]?["stop_reason"]?.stringValue == "max_tokens")
                #expect(delta.object["tokenmeter"]?["cut_by_budget"]?.boolValue == true)
                #expect(events.last?.type == "message_stop")
            } else {
                let message = try JSONParser.parse(Data(answer.body.utf8))
                #expect(message["stop_reason"]?.stringValue == "max_tokens")
                delivered = message["content"]?[0]?["text"]?.stringValue ?? ""
            }
            #expect(!delivered.isEmpty && scenario.text.hasPrefix(delivered))
            let records = try await harness.waitForRecords(user: "dee", count: 1)
            #expect(records.first?.status == "cut_by_budget")
            #expect((records.first?.costPicoUSD ?? .max) <= limit.picoUSD)
            // The record counts what was delivered with the stand-in encoding, raised by the model's margin (35%).
            let local = try Encoding.named(.cl100k_base).count(delivered)
            #expect(records.first?.completionTokens == Int64(CatalogModel.raise(local, byPercent: 35)))
            #expect(await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil })
            #expect((harness.upstream.records.first?.chunksWritten ?? 0) < 200)
            try await harness.stop()
        }

        @Test("errors on /v1/messages are in Anthropic's shape, and an upstream's overload passes through as 529")
        func errors() async throws {
            let harness = try await GatewayHarness.start(provider: .anthropic)
            let key = try await harness.addUser("eve")
            func error(_ answer: (status: Int, body: String)) throws -> (Int, String?) {
                let json = try JSONParser.parse(Data(answer.body.utf8))
                #expect(json["type"]?.stringValue == "error", "\(answer.body)")
                return (answer.status, json["error"]?["type"]?.stringValue)
            }
            let url = harness.baseURL + "/v1/messages"
            #expect(try error(anthropicCurl(url, key: nil, body: messagesRequest("claude-haiku-4-5"))) == (401, "authentication_error"))
            #expect(try error(anthropicCurl(url, key: key, body: messagesRequest("no-such-model"))) == (404, "not_found_error"))
            let noMax = #"{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}"#
            #expect(try error(anthropicCurl(url, key: key, body: Array(noMax.utf8))) == (400, "invalid_request_error"))
            #expect(try error(anthropicCurl(url, key: key, body: Array("{\"model\":".utf8))) == (400, "invalid_request_error"))
            // The key as `Authorization: Bearer`, as the current Anthropic SDK sends it, works too.
            harness.upstream.setDefaultScenario(UpstreamScenario(fault: .status(529, message: "Overloaded", type: "overloaded_error")))
            let overloaded = try curl(url, key: key, body: messagesRequest("claude-haiku-4-5"))
            #expect(try error(overloaded) == (529, "overloaded_error"))
            #expect(overloaded.body.contains("Overloaded"))
            try await harness.stop()

            let translated = try await GatewayHarness.start()
            let key2 = try await translated.addUser("eve")
            let thinking = messagesRequest("gpt-4o-mini", extra: ["thinking": ["type": "enabled", "budget_tokens": 1024]])
            let refused = try anthropicCurl(translated.baseURL + "/v1/messages", key: key2, body: thinking)
            #expect(try error(refused) == (400, "invalid_request_error"))
            #expect(refused.body.contains("thinking"))
            #expect(translated.upstream.records.isEmpty)
            try await translated.stop()
        }

        @Test("count_tokens answers the pre-flight count: the stand-in count raised by the model's margin")
        func countTokens() async throws {
            let harness = try await GatewayHarness.start(provider: .anthropic)
            let key = try await harness.addUser("fox")
            let body = #"{"model":"claude-opus-4-7","messages":[{"role":"user","content":"Hello, Claude"}]}"#
            let answer = try anthropicCurl(harness.baseURL + "/v1/messages/count_tokens", key: key, body: Array(body.utf8))
            #expect(answer.status == 200, "\(answer.body)")
            let encoding = try Encoding.named(.cl100k_base)
            let local = 3 + encoding.count("user") + encoding.count("Hello, Claude") + 3
            #expect(try JSONParser.parse(Data(answer.body.utf8))["input_tokens"]?.integerValue == CatalogModel.raise(local, byPercent: 80))
            #expect(harness.upstream.records.isEmpty)
            #expect(try harness.records(user: "fox").isEmpty)
            try await harness.stop()
        }

        @Test("the official anthropic Python SDK works unchanged: text, messages.stream, tool use, a budget cut, leaving, count_tokens, errors",
              arguments: MessagesMode.allCases)
        func officialAnthropicSDK(_ mode: MessagesMode) async throws {
            let harness = try await GatewayHarness.start(provider: mode.provider)
            let key = try await harness.addUser("sdk")
            let budgetKey = try await harness.addUser("tight", budget: Budget(maxRequestCost: Money(picoUSD: 300_000_000)))
            let expected = "Messages through TokenMeter — ok ✓"
            let (text, tool, long) = mode == .anthropic ? ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-7")
                : ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4o")
            harness.upstream.setScenario(UpstreamScenario(chunks: ["Messages", " through", " TokenMeter", " — ok ✓"], promptTokens: 12),
                                         forModel: text)
            var call = UpstreamScenario(chunks: [], promptTokens: 40)
            call.functionCall = ScriptedFunctionCall(name: "get_weather", callID: "toolu_9", argumentChunks: [#"{"city""#, #":"Paris"}"#])
            harness.upstream.setScenario(call, forModel: tool)
            harness.upstream.setScenario(.counting(400, interval: .milliseconds(5)), forModel: long)
            guard let (status, output) = await OperationsTests.runSDKScript(
                "anthropic_sdk_check.py", [harness.baseURL, key, budgetKey, expected, text, tool, long], package: "anthropic") else {
                try await harness.stop()
                return
            }
            #expect(status == 0, "\(output)")
            let records = try await harness.waitForRecords(user: "sdk", count: 6)
            #expect(records.map(\.status) == ["completed", "completed", "completed", "completed", "completed", "client_cancelled"],
                    "count_tokens and errors are not billed")
            let cut = try await harness.waitForRecords(user: "tight", count: 2)
            #expect(cut.map(\.status) == ["cut_by_budget", "cut_by_budget"])
            #expect(cut.allSatisfy { $0.costPicoUSD <= 300_000_000 })
            try await harness.stop()
        }

        @Test("the official openai Python SDK reaches a Claude model through /v1/chat/completions, streamed and not")
        func openAISDKReachesClaude() async throws {
            let harness = try await GatewayHarness.start(provider: .anthropic)
            let key = try await harness.addUser("sdk")
            let scenario = UpstreamScenario(chunks: ["Claude", " through", " the", " openai", " SDK ✓"], promptTokens: 12)
            harness.upstream.setDefaultScenario(scenario)
            guard let (status, output) = await OperationsTests.runSDKScript(
                "openai_sdk_check.py", [harness.baseURL + "/v1", key, "claude-sonnet-4-5", scenario.text]) else {
                try await harness.stop()
                return
            }
            #expect(status == 0, "\(output)")
            let records = try await harness.waitForRecords(user: "sdk", count: 2)
            #expect(records.map(\.status) == ["completed", "completed"])
            #expect(records.allSatisfy { $0.billedBy == "provider" && $0.costPicoUSD > 0 })
            #expect(harness.upstream.records.allSatisfy { $0.path == "/v1/messages" })
            try await harness.stop()
        }
    }
}
