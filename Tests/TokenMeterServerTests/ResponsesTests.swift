import Foundation
import Testing
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterServer
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer

/// How the test upstream serves `/v1/responses`: its own Responses API (events pass through) or chat
/// completions (translated).
enum ResponsesMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case native, translated
    var testDescription: String { rawValue }
    var route: ResponsesRoute { self == .native ? .native : .translated }
    /// The path the upstream is called on.
    var upstreamPath: String { self == .native ? "/v1/responses" : "/v1/chat/completions" }
}

extension GatewayHarness {
    /// A harness whose upstream serves the Responses API `mode`'s way.
    static func start(responses mode: ResponsesMode, ledger: LedgerKind = .sqlite,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> GatewayHarness {
        try await start(ledger: ledger) { configuration in
            configuration.upstreams[0].responses = mode.route
            configure(&configuration)
        }
    }

    /// The gateway's Responses API for `key`, as the client library calls it.
    func responsesGateway(key: String) -> Upstream {
        Upstream(baseURL: baseURL + "/v1", provider: .openAIResponses, apiKey: key)
    }
}

/// A Responses request body.
func responsesRequest(_ model: String = "gpt-4o-mini", input: JSONValue = "Say hello", stream: Bool = true,
                      extra: JSONObject = [:]) -> ChatRequest {
    var body: JSONObject = ["model": .string(model), "input": input, "stream": .bool(stream)]
    for (key, value) in extra { body[key] = value }
    return ChatRequest(body: body)
}

/// The events of an SSE body as (event type, data object), in order.
func sseEvents(_ body: String) throws -> [(type: String, object: JSONValue)] {
    try body.components(separatedBy: "\n\n").compactMap { block in
        var type: String?
        var data: String?
        for line in block.split(separator: "\n") {
            if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
        guard let type, let data else { return nil }
        return (type, try JSONParser.parse(Data(data.utf8)))
    }
}

extension ServerTests {
    @Suite("Responses API")
    struct ResponsesTests {
        @Test("a streamed response carries the upstream's text in typed events numbered from 0, with usage, and one record",
              arguments: ResponsesMode.allCases)
        func streamedResponse(_ mode: ResponsesMode) async throws {
            let harness = try await GatewayHarness.start(responses: mode)
            let key = try await harness.addUser("rita")
            let scenario = UpstreamScenario(chunks: ["Hello", ",", " world", " ✓"], promptTokens: 11)
            harness.upstream.setDefaultScenario(scenario)
            let body = responsesRequest(extra: ["instructions": "Be brief.", "max_output_tokens": 50]).encoded()
            let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(body))
            #expect(answer.status == 200, "\(answer.body)")
            let events = try sseEvents(answer.body)
            #expect(events.map(\.type) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
            ])
            #expect(events.map { $0.object["sequence_number"]?.integerValue } == (0..<events.count).map { $0 })
            #expect(events.allSatisfy { $0.object["type"]?.stringValue == $0.type })
            let text = events.filter { $0.type == "response.output_text.delta" }.compactMap { $0.object["delta"]?.stringValue }.joined()
            #expect(text == scenario.text)
            let final = try #require(events.last?.object["response"])
            #expect(final["status"]?.stringValue == "completed")
            #expect(final["output"]?[0]?["content"]?[0]?["text"]?.stringValue == scenario.text)
            #expect(final["usage"]?["input_tokens"]?.intValue == 11)
            #expect(final["usage"]?["output_tokens"]?.intValue == 4)
            #expect(final["id"] == events[0].object["response"]?["id"])

            let sent = try #require(harness.upstream.records.first)
            #expect(sent.path == mode.upstreamPath)
            let upstreamBody = try JSONParser.parse(sent.body)
            switch mode {
            case .native:
                #expect(upstreamBody["input"]?.stringValue == "Say hello")
                #expect(upstreamBody["instructions"]?.stringValue == "Be brief.")
                #expect(upstreamBody["max_output_tokens"]?.intValue == 50)
            case .translated:
                #expect(upstreamBody["messages"] == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Say hello"]])
                #expect(upstreamBody["max_tokens"]?.intValue == 50)
                #expect(upstreamBody["input"] == nil)
            }
            let records = try await harness.waitForRecords(user: "rita", count: 1)
            #expect(records.map(\.status) == ["completed"])
            #expect(records.first?.completionTokens == Int64(try Encoding.named(.o200k_base).count(scenario.text)))
            #expect(records.first?.providerCompletionTokens == 4)
            #expect(records.first?.billedBy == "provider")
            #expect((records.first?.costPicoUSD ?? 0) > 0)
            try await harness.stop()
        }

        @Test("a response without streaming is one response object with the text, usage and one record",
              arguments: ResponsesMode.allCases)
        func collectedResponse(_ mode: ResponsesMode) async throws {
            let harness = try await GatewayHarness.start(responses: mode)
            let key = try await harness.addUser("carl")
            let scenario = UpstreamScenario(chunks: ["One", " answer"], promptTokens: 8, cachedTokens: 2)
            harness.upstream.setDefaultScenario(scenario)
            let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(responsesRequest(stream: false).encoded()))
            #expect(answer.status == 200, "\(answer.body)")
            let object = try JSONParser.parse(Data(answer.body.utf8))
            #expect(object["object"]?.stringValue == "response")
            #expect(object["status"]?.stringValue == "completed")
            #expect(object["output"]?[0]?["type"]?.stringValue == "message")
            #expect(object["output"]?[0]?["content"]?[0]?["text"]?.stringValue == "One answer")
            #expect(object["usage"]?["input_tokens"]?.intValue == 8)
            #expect(object["usage"]?["output_tokens"]?.intValue == 2)
            #expect(object["usage"]?["input_tokens_details"]?["cached_tokens"]?.intValue == 2)
            let records = try await harness.waitForRecords(user: "carl", count: 1)
            #expect(records.map(\.status) == ["completed"])
            try await harness.stop()
        }

        /// A 1×1 PNG: its size is read from the data URL, so the image is counted exactly.
        static let onePixelPNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
        /// A user message asking about ``onePixelPNG``, as Responses input.
        static let imageQuestion: JSONValue = [["role": "user", "content": [
            ["type": "input_text", "text": "What is this?"], ["type": "input_image", "image_url": .string(onePixelPNG), "detail": "low"],
        ]]]

        @Test("an Ollama upstream serves /v1/responses translated: image parts become Ollama images, metadata and store are echoed, not sent")
        func ollamaTranslated() async throws {
            let harness = try await GatewayHarness.start(provider: .ollama)
            let key = try await harness.addUser("olga")
            let scenario = UpstreamScenario(chunks: ["A", " red", " dot"], promptTokens: 90)
            harness.upstream.setDefaultScenario(scenario)
            let body = responsesRequest("llama3.1", input: Self.imageQuestion, stream: false,
                                        extra: ["metadata": ["team": "blue"], "store": false, "temperature": 0.5])
            let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(body.encoded()))
            #expect(answer.status == 200, "\(answer.body)")
            let object = try JSONParser.parse(Data(answer.body.utf8))
            #expect(object["output"]?[0]?["content"]?[0]?["text"]?.stringValue == "A red dot")
            #expect(object["metadata"] == ["team": "blue"])
            #expect(object["store"] == false)
            #expect(object["temperature"]?.doubleValue == 0.5)
            let sent = try #require(harness.upstream.records.first)
            #expect(sent.path == "/api/chat")
            let upstreamBody = try JSONParser.parse(sent.body)
            #expect(upstreamBody["messages"]?[0]?["content"]?.stringValue == "What is this?")
            #expect(upstreamBody["messages"]?[0]?["images"]?[0]?.stringValue?.hasPrefix("iVBORw0KGgo") == true)
            #expect(upstreamBody["options"]?["temperature"]?.doubleValue == 0.5)
            #expect(upstreamBody["metadata"] == nil && upstreamBody["store"] == nil)
            let records = try await harness.waitForRecords(user: "olga", count: 1)
            #expect(records.map(\.status) == ["completed"])
            try await harness.stop()
        }

        @Test("an input_image part is counted into the prompt held and recorded, as the same image in a chat request is")
        func imageIsCounted() async throws {
            let harness = try await GatewayHarness.start(responses: .translated)
            let key = try await harness.addUser("ivan")
            #expect(try curl(harness.baseURL + "/v1/responses", key: key,
                             body: Array(responsesRequest(input: Self.imageQuestion, stream: false).encoded())).status == 200)
            var chat = chat("gpt-4o-mini")
            chat.body["messages"] = [["role": "user", "content": [
                ["type": "text", "text": "What is this?"], ["type": "image_url", "image_url": ["url": .string(Self.onePixelPNG), "detail": "low"]],
            ]]]
            #expect(try curl(harness.baseURL + "/v1/chat/completions", key: key, body: Array(chat.encoded())).status == 200)
            let records = try await harness.waitForRecords(user: "ivan", count: 2)
            let textOnly = 3 + 3 + (try Encoding.named(.o200k_base).count("user") + Encoding.named(.o200k_base).count("What is this?"))
            #expect(records[0].promptTokens > Int64(textOnly))
            #expect(records[0].promptTokens == records[1].promptTokens)
            try await harness.stop()
        }

        @Test("a budget cut ends the response incomplete (max_output_tokens) at the exact token; delivered == recorded; the upstream is closed",
              arguments: ResponsesMode.allCases, [true, false])
        func budgetCut(_ mode: ResponsesMode, streaming: Bool) async throws {
            let harness = try await GatewayHarness.start(responses: mode)
            let encoding = try Encoding.named(.o200k_base)
            let promptTokens = 3 + encoding.count("user") + encoding.count("Say hello") + 3
            let allowance = 13
            let key = try await harness.addUser("budd", budget: Budget(monthlyTokenLimit: Int64(promptTokens + allowance)))
            let scenario = UpstreamScenario(chunks: (0..<200).map { "word\($0) and ✓ 日本 " }, interval: .milliseconds(5))
            harness.upstream.setDefaultScenario(scenario)
            let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(responsesRequest(stream: streaming).encoded()))
            #expect(answer.status == 200, "\(answer.body)")
            let final: JSONValue
            if streaming {
                let events = try sseEvents(answer.body)
                #expect(events.map { $0.object["sequence_number"]?.integerValue } == (0..<events.count).map { $0 })
                #expect(events.last?.type == "response.incomplete")
                #expect(events.contains { $0.type == "response.output_item.done" && $0.object["item"]?["status"]?.stringValue == "incomplete" })
                let delivered = events.filter { $0.type == "response.output_text.delta" }.compactMap { $0.object["delta"]?.stringValue }.joined()
                #expect(encoding.count(delivered) == allowance)
                #expect(scenario.text.hasPrefix(delivered))
                let done = try #require(events.first { $0.type == "response.output_text.done" })
                #expect(done.object["text"]?.stringValue == delivered)
                final = try #require(events.last?.object["response"])
            } else {
                final = try JSONParser.parse(Data(answer.body.utf8))
            }
            #expect(final["status"]?.stringValue == "incomplete")
            #expect(final["incomplete_details"]?["reason"]?.stringValue == "max_output_tokens")
            #expect(final["tokenmeter"]?["cut_by_budget"]?.boolValue == true)
            let text = final["output"]?[0]?["content"]?[0]?["text"]?.stringValue ?? ""
            #expect(encoding.count(text) == allowance)
            let records = try await harness.waitForRecords(user: "budd", count: 1)
            #expect(records.first?.status == "cut_by_budget")
            #expect(records.first?.completionTokens == Int64(allowance))
            #expect(records.first?.billedTokens == Int64(promptTokens + allowance))
            #expect(await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil })
            #expect((harness.upstream.records.first?.chunksWritten ?? 0) < 100)
            try await harness.stop()
        }

        @Test("a client that leaves mid-response cancels the upstream; the record holds what was delivered",
              arguments: ResponsesMode.allCases)
        func clientLeaves(_ mode: ResponsesMode) async throws {
            let harness = try await GatewayHarness.start(responses: mode)
            let key = try await harness.addUser("lea")
            let scenario = UpstreamScenario.counting(200, interval: .milliseconds(20))
            harness.upstream.setDefaultScenario(scenario)
            let stream = harness.client.stream(responsesRequest(), to: harness.responsesGateway(key: key))
            let reader = Task { () -> (String, [String]) in
                var text = ""
                var types: [String] = []
                var chunks = 0
                for try await event in stream {
                    types.append(event.typed?.type ?? "?")
                    if let c = event.content, !c.isEmpty { text += c; chunks += 1 }
                    if chunks == 5 { break }
                }
                return (text, types)
            }
            let (text, types) = try await reader.value
            #expect(types.prefix(2) == ["response.created", "response.in_progress"])
            #expect(text == scenario.chunks.prefix(5).joined())
            #expect(await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil })
            let records = try await harness.waitForRecords(user: "lea", count: 1)
            #expect(records.first?.status == "client_cancelled")
            #expect(records.first?.completionTokens == Int64(try Encoding.named(.o200k_base).count(text)))
            try await harness.stop()
        }

        @Test("a function call streams as a function_call item with its arguments, metered, with the tools translated",
              arguments: ResponsesMode.allCases)
        func functionCall(_ mode: ResponsesMode) async throws {
            let harness = try await GatewayHarness.start(responses: mode)
            let key = try await harness.addUser("fred")
            var scenario = UpstreamScenario(chunks: [], promptTokens: 30)
            scenario.functionCall = ScriptedFunctionCall(name: "get_weather", callID: "call_abc",
                                                         argumentChunks: [#"{"city":"#, #""Paris""#, "}"])
            harness.upstream.setDefaultScenario(scenario)
            let tools: JSONValue = [["type": "function", "name": "get_weather", "description": "Weather in a city",
                                     "parameters": ["type": "object", "properties": ["city": ["type": "string"]]]]]
            let input: JSONValue = [
                ["role": "user", "content": [["type": "input_text", "text": "Weather in Paris?"]]],
                ["type": "function_call", "call_id": "call_old", "name": "get_weather", "arguments": #"{"city":"Rome"}"#],
                ["type": "function_call_output", "call_id": "call_old", "output": "sunny"],
            ]
            let body = responsesRequest(input: input, extra: ["tools": tools, "tool_choice": "auto"]).encoded()
            let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(body))
            #expect(answer.status == 200, "\(answer.body)")
            let events = try sseEvents(answer.body)
            let added = try #require(events.first { $0.type == "response.output_item.added" })
            #expect(added.object["item"]?["type"]?.stringValue == "function_call")
            #expect(added.object["item"]?["name"]?.stringValue == "get_weather")
            #expect(added.object["item"]?["call_id"]?.stringValue == "call_abc")
            let arguments = events.filter { $0.type == "response.function_call_arguments.delta" }.compactMap { $0.object["delta"]?.stringValue }
            #expect(arguments.joined() == #"{"city":"Paris"}"#)
            let final = try #require(events.last?.object["response"])
            #expect(events.last?.type == "response.completed")
            #expect(final["output"]?[0]?["arguments"]?.stringValue == #"{"city":"Paris"}"#)
            #expect(final["output"]?[0]?["status"]?.stringValue == "completed")
            if mode == .translated {
                let sent = try JSONParser.parse(try #require(harness.upstream.records.first).body)
                #expect(sent["tools"]?[0]?["function"]?["name"]?.stringValue == "get_weather")
                #expect(sent["messages"]?[1]?["tool_calls"]?[0]?["id"]?.stringValue == "call_old")
                #expect(sent["messages"]?[2] == ["role": "tool", "tool_call_id": "call_old", "content": "sunny"])
            }
            let records = try await harness.waitForRecords(user: "fred", count: 1)
            let encoding = try Encoding.named(.o200k_base)
            #expect(records.first?.completionTokens == Int64(encoding.count("get_weather" + #"{"city":"Paris"}"#)))
            try await harness.stop()
        }

        @Test("what chat completions cannot carry gets a 400 naming the field on a translated upstream, and passes through on a native one",
              arguments: [
                  ("previous_response_id", ["previous_response_id": "resp_123"] as JSONObject),
                  ("tools[0].type", ["tools": [["type": "web_search"]]] as JSONObject),
                  ("reasoning.summary", ["reasoning": ["effort": "low", "summary": "auto"]] as JSONObject),
                  ("input[1]", ["input": [["role": "user", "content": "hi"], ["type": "item_reference", "id": "msg_1"]]] as JSONObject),
              ])
        func untranslatable(_ param: String, _ extra: JSONObject) async throws {
            let translated = try await GatewayHarness.start(responses: .translated)
            let key = try await translated.addUser("tina")
            let refused = try curl(translated.baseURL + "/v1/responses", key: key, body: Array(responsesRequest(extra: extra).encoded()))
            #expect(refused.status == 400)
            let error = try JSONParser.parse(Data(refused.body.utf8))["error"]
            #expect(error?["param"]?.stringValue == param, "\(refused.body)")
            #expect(error?["code"]?.stringValue == "unsupported_parameter")
            #expect(translated.upstream.records.isEmpty)
            try await translated.stop()

            let native = try await GatewayHarness.start(responses: .native)
            let nativeKey = try await native.addUser("tina")
            let served = try curl(native.baseURL + "/v1/responses", key: nativeKey, body: Array(responsesRequest(extra: extra).encoded()))
            #expect(served.status == 200, "\(served.body)")
            let sent = try JSONParser.parse(try #require(native.upstream.records.first).body)
            for (key, value) in extra { #expect(sent[key] == value) }
            try await native.stop()
        }

        @Test("bad Responses requests get a 400 naming the field, before any upstream call", arguments: ResponsesMode.allCases)
        func badRequests(_ mode: ResponsesMode) async throws {
            let harness = try await GatewayHarness.start(responses: mode)
            let key = try await harness.addUser("bea")
            let cases: [(String, String)] = [
                (#"{"model":"gpt-4o-mini"}"#, "input"),
                (#"{"input":"hi"}"#, "model"),
                (#"{"model":"gpt-4o-mini","input":"hi","background":true}"#, "background"),
                (#"{"model":"gpt-4o-mini","input":[]}"#, "input"),
                (#"{"model":"gpt-4o-mini","input":"hi","max_output_tokens":0}"#, "max_output_tokens"),
                (#"{"model":"gpt-4o-mini","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}"#, "input[0].content[0]"),
                (#"{"model":"gpt-4o-mini","input":[{"role":"wizard","content":"hi"}]}"#, "input[0].role"),
                (#"{"model":"gpt-4o-mini","input":7}"#, "input"),
            ]
            for (body, param) in cases {
                let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(body.utf8))
                #expect(answer.status == 400, "\(body) -> \(answer.body)")
                #expect(try JSONParser.parse(Data(answer.body.utf8))["error"]?["param"]?.stringValue == param, "\(answer.body)")
            }
            let malformed = try curl(harness.baseURL + "/v1/responses", key: key, body: Array("{\"model\":".utf8))
            #expect(malformed.status == 400)
            let unknown = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(responsesRequest("no-such-model").encoded()))
            #expect(unknown.status == 404)
            #expect(try curl(harness.baseURL + "/v1/responses", key: "tm_bad_key", body: Array(responsesRequest().encoded())).status == 401)
            #expect(harness.upstream.records.isEmpty)
            #expect(try harness.records(user: "bea").isEmpty)
            try await harness.stop()
        }

        @Test("Responses-only models are served on a Responses upstream only; /v1/models names each model's APIs")
        func responsesOnlyModels() async throws {
            let translated = try await GatewayHarness.start(responses: .translated)
            let key = try await translated.addUser("pro")
            let refused = try curl(translated.baseURL + "/v1/responses", key: key, body: Array(responsesRequest("o3-pro").encoded()))
            #expect(refused.status == 400)
            #expect(refused.body.contains("model_not_supported"))
            let chat = try curl(translated.baseURL + "/v1/chat/completions", key: key, body: Array(chat("o3-pro").encoded()))
            #expect(chat.status == 400)
            #expect(chat.body.contains("only supported in v1/responses"))
            let listed = try JSONParser.parse(Data(try curl(translated.baseURL + "/v1/models", method: "GET", key: key).body.utf8))
            let ids = listed["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids.contains("gpt-4o-mini") && !ids.contains("o3-pro"))
            #expect(listed["data"]?.arrayValue?.first { $0["id"]?.stringValue == "gpt-4o-mini" }?["endpoints"]
                == ["/v1/chat/completions", "/v1/responses"])
            try await translated.stop()

            let native = try await GatewayHarness.start(responses: .native)
            let nativeKey = try await native.addUser("pro")
            native.upstream.setDefaultScenario(UpstreamScenario(chunks: ["deep", " thought"], reasoningTokens: 40))
            let served = try curl(native.baseURL + "/v1/responses", key: nativeKey, body: Array(responsesRequest("o3-pro", stream: false).encoded()))
            #expect(served.status == 200, "\(served.body)")
            #expect(try JSONParser.parse(Data(served.body.utf8))["usage"]?["output_tokens_details"]?["reasoning_tokens"]?.intValue == 40)
            let nativeList = try JSONParser.parse(Data(try curl(native.baseURL + "/v1/models", method: "GET", key: nativeKey).body.utf8))
            #expect(nativeList["data"]?.arrayValue?.first { $0["id"]?.stringValue == "o3-pro" }?["endpoints"] == ["/v1/responses"])
            let records = try await native.waitForRecords(user: "pro", count: 1)
            #expect(records.first?.providerCompletionTokens == 42)
            // o3-pro: $80 per million output tokens; 42 provider output tokens bill well above $0.
            #expect((records.first?.costPicoUSD ?? 0) >= 42 * 80_000_000)
            try await native.stop()
        }

        @Test("the official openai Python SDK's responses.create and responses.stream work unchanged: text, function calls, a budget cut, leaving, errors",
              arguments: ResponsesMode.allCases, LedgerKind.available)
        func officialPythonSDK(_ mode: ResponsesMode, _ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(responses: mode, ledger: ledger)
            let key = try await harness.addUser("sdk")
            // gpt-4o costs $10 per million output tokens: $0.0003 per request leaves room for about 27 after the prompt.
            let cap = Money(picoUSD: 300_000_000)
            let budgetKey = try await harness.addUser("tight", budget: Budget(maxRequestCost: cap))
            let expected = "Responses through TokenMeter — ok ✓"
            harness.upstream.setScenario(UpstreamScenario(chunks: ["Responses", " through", " TokenMeter", " — ok ✓"], promptTokens: 12),
                                         forModel: "gpt-4o-mini")
            var call = UpstreamScenario(chunks: [], promptTokens: 40)
            call.functionCall = ScriptedFunctionCall(name: "get_weather", argumentChunks: [#"{"city""#, #":"Paris"}"#])
            harness.upstream.setScenario(call, forModel: "gpt-4.1-mini")
            harness.upstream.setScenario(.counting(400, interval: .milliseconds(5)), forModel: "gpt-4o")
            guard let (status, text) = await OperationsTests.runSDKScript(
                "openai_responses_check.py", [harness.baseURL + "/v1", key, budgetKey, expected]) else {
                try await harness.stop()
                return
            }
            #expect(status == 0, "\(text)")
            #expect(text.contains(#""stream_text": "\#(expected)""#), "\(text)")
            let records = try await harness.waitForRecords(user: "sdk", count: 6)
            #expect(records.map(\.status) == ["completed", "completed", "completed", "completed", "completed", "client_cancelled"],
                    "errors are not billed")
            #expect(text.contains(#""request_id": "\#(records[1].requestID)""#), "\(text)")
            let left = try JSONParser.parse(Data(text.split(separator: "\n").last.map(String.init)?.utf8 ?? "{}".utf8))["left_text"]?.stringValue
            #expect(records[5].completionTokens == Int64(try Encoding.named(.o200k_base).count(left ?? "")))
            let cut = try await harness.waitForRecords(user: "tight", count: 2)
            #expect(cut.map(\.status) == ["cut_by_budget", "cut_by_budget"])
            #expect(cut.allSatisfy { $0.costPicoUSD <= cap.picoUSD && $0.completionTokens > 0 })
            try await harness.stop()
        }

        @Test("an upstream that fails mid-response ends it with response.failed; the record says upstream_error",
              arguments: ResponsesMode.allCases)
        func upstreamFailsMidResponse(_ mode: ResponsesMode) async throws {
            let harness = try await GatewayHarness.start(responses: mode)
            let key = try await harness.addUser("fay")
            harness.upstream.setDefaultScenario(.counting(10, fault: .midStreamError(afterChunks: 3, message: "model overloaded")))
            let answer = try curl(harness.baseURL + "/v1/responses", key: key, body: Array(responsesRequest().encoded()))
            #expect(answer.status == 200)
            let events = try sseEvents(answer.body)
            #expect(events.last?.type == "response.failed")
            #expect(events.last?.object["response"]?["error"]?["message"]?.stringValue?.contains("model overloaded") == true)
            #expect(events.map { $0.object["sequence_number"]?.integerValue } == (0..<events.count).map { $0 })
            let records = try await harness.waitForRecords(user: "fay", count: 1)
            #expect(records.first?.status == "upstream_error")
            try await harness.stop()
        }
    }
}

extension JSONValue {
    /// Element `index` of an array, nil when this is not an array or is shorter.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
