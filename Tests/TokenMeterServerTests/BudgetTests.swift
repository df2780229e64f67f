import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer
import TokenMeterJSON

extension ServerTests {
    @Suite("Budget guard")
    struct BudgetTests {
        /// Prompt tokens of `chat()` for gpt-4o-mini with the chat rule, measured through a refused request.
        static let prompt = "Say hello"

        @Test("a budget for N output tokens delivers exactly N tokens, records N, and the upstream is closed within 50 ms",
              arguments: LedgerKind.available, [7, 20, 33])
        func budgetCutIsExact(ledger: LedgerKind, allowance: Int) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            let encoding = try Encoding.named(.o200k_base)
            // 3 framing tokens per message + 3 reply priming + the text (docs/CATALOG.md, chat rule).
            let promptTokens = 3 + encoding.count("user") + encoding.count(Self.prompt) + 3
            let key = try await harness.addUser("eve", budget: Budget(monthlyTokenLimit: Int64(promptTokens + allowance)))
            let scenario = UpstreamScenario(chunks: (0..<200).map { "word\($0) and ✓ 日本 " }, interval: .milliseconds(5))
            harness.upstream.setDefaultScenario(scenario)
            let (events, error) = await collect(harness.client.stream(chat("gpt-4o-mini", Self.prompt), to: harness.gateway(key: key)))
            #expect(error == nil)
            let delivered = events.compactMap(\.content).joined()
            #expect(scenario.text.hasPrefix(delivered))
            #expect(encoding.count(delivered) == allowance)
            // The test client always asks for include_usage, so the usage chunk (local counts) comes last.
            let finish = try #require(events.last { $0.finishReason != nil })
            #expect(finish.finishReason == .length)
            #expect(events.last?.usage?.completionTokens == allowance)
            let cutMarker = try JSONParser.parse(finish.raw)
            #expect(cutMarker["tokenmeter"]?["cut_by_budget"]?.boolValue == true)
            let records = try await harness.waitForRecords(user: "eve", count: 1)
            #expect(records.first?.status == "cut_by_budget")
            #expect(records.first?.completionTokens == Int64(allowance))
            #expect(records.first?.promptTokens == Int64(promptTokens))
            #expect(records.first?.billedTokens == Int64(promptTokens + allowance))
            // The upstream saw the connection close within 50 ms of writing the chunk that crossed the budget.
            let closed = await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil }
            #expect(closed)
            let record = try #require(harness.upstream.records.first)
            let wentAway = try #require(record.clientWentAwayAt)
            let lastWrite = try #require(record.chunkWriteTimes.last { $0 <= wentAway })
            #expect(wentAway - lastWrite < .milliseconds(50), "upstream closed \(wentAway - lastWrite) after the cut")
            #expect(record.chunksWritten < 200)
            try await harness.stop()
        }

        @Test("the max_tokens sent upstream is clamped to what the budget can pay for")
        func maxTokensClamped() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("fay", budget: Budget(monthlyTokenLimit: 100))
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"]))
            _ = await collect(harness.client.stream(chat("gpt-4o-mini", Self.prompt, maxTokens: 5000), to: harness.gateway(key: key)))
            let body = try JSONParser.parse(try #require(harness.upstream.records.first).body)
            let sent = try #require(body["max_tokens"]?.intValue)
            #expect(sent < 100 && sent > 80)
            try await harness.stop()
        }

        @Test("a prompt that alone exceeds the remaining budget gets 429 insufficient_quota and no upstream call")
        func promptOverBudget() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("gus", budget: Budget(monthlyTokenLimit: 5))
            let (events, error) = await collect(harness.client.stream(chat("gpt-4o-mini", Self.prompt), to: harness.gateway(key: key)))
            #expect(events.isEmpty)
            guard case .httpStatus(429, let body?, _)? = error else { Issue.record("expected 429, got \(String(describing: error))"); return }
            #expect(body.code == "insufficient_quota")
            #expect(body.type == "insufficient_quota")
            #expect(harness.upstream.records.isEmpty)
            #expect(try harness.records(user: "gus").isEmpty)
            try await harness.stop()
        }

        @Test("a money budget cut bills exactly the remaining money's worth of tokens")
        func moneyBudgetCut() async throws {
            let harness = try await GatewayHarness.start()
            let encoding = try Encoding.named(.o200k_base)
            let promptTokens = 3 + encoding.count("user") + encoding.count(Self.prompt) + 3
            // gpt-4o-mini: $0.15 / M input, $0.60 / M output → 150,000 and 600,000 pico-USD per token.
            let allowance = 12
            let money = Money(picoUSD: Int64(promptTokens) * 150_000 + Int64(allowance) * 600_000)
            let key = try await harness.addUser("hal", budget: Budget(monthlyLimit: money))
            harness.upstream.setDefaultScenario(UpstreamScenario.counting(100))
            let (events, _) = await collect(harness.client.stream(chat("gpt-4o-mini", Self.prompt), to: harness.gateway(key: key)))
            #expect(encoding.count(events.compactMap(\.content).joined()) == allowance)
            let records = try await harness.waitForRecords(user: "hal", count: 1)
            #expect(records.first?.status == "cut_by_budget")
            #expect(records.first?.costPicoUSD == money.picoUSD)
            try await harness.stop()
        }

        @Test("stream: false is cut the same way: the message holds exactly the affordable tokens, finish_reason length")
        func nonStreamingCut() async throws {
            let harness = try await GatewayHarness.start()
            let encoding = try Encoding.named(.o200k_base)
            let promptTokens = 3 + encoding.count("user") + encoding.count(Self.prompt) + 3
            let key = try await harness.addUser("una", budget: Budget(monthlyTokenLimit: Int64(promptTokens + 9)))
            harness.upstream.setDefaultScenario(UpstreamScenario.counting(100))
            let completion = try await harness.client.complete(chat("gpt-4o-mini", Self.prompt), to: harness.gateway(key: key))
            #expect(encoding.count(completion.content ?? "") == 9)
            #expect(completion.finishReason == .length)
            #expect(try JSONParser.parse(completion.raw)["tokenmeter"]?["cut_by_budget"]?.boolValue == true)
            let records = try await harness.waitForRecords(user: "una", count: 1)
            #expect(records.first?.status == "cut_by_budget")
            #expect(records.first?.completionTokens == 9)
            try await harness.stop()
        }

        @Test("50 concurrent streams of one user never spend more than the budget", arguments: LedgerKind.available)
        func concurrentStreamsStayInBudget(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            let limit: Int64 = 2_000
            let key = try await harness.addUser("ivy", budget: Budget(monthlyTokenLimit: limit))
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: (0..<60).map { "tok\($0) " }, interval: .milliseconds(2)))
            let gateway = harness.gateway(key: key)
            let client = harness.client
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask { _ = await collect(client.stream(chat("gpt-4o-mini", Self.prompt, maxTokens: 100), to: gateway)) }
                }
            }
            let records = try harness.records(user: "ivy")
            let billed = records.reduce(0) { $0 + $1.billedTokens }
            #expect(billed <= limit)
            #expect(!records.isEmpty)
            try await harness.stop()
        }
    }
}
