import Foundation
import Testing
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer

extension ServerTests {
    /// Holds that grow with the stream (docs/LEDGER.md, "Holds"): concurrent streams of one user share its
    /// budget instead of the first ones locking it up, and spend never passes a limit.
    @Suite("Growing holds")
    struct HoldTests {
        static let prompt = "Write a long story"
        /// 200 chunks of one token each in o200k_base.
        static let answer = UpstreamScenario(chunks: (0..<200).map { _ in " story" }, interval: .milliseconds(2))

        static func promptTokens() throws -> Int { try userPromptTokens(prompt) }

        /// Runs `count` concurrent streams of `model` for `key` and returns each one's delivered text and finish
        /// reason (nil when the stream failed).
        static func streams(_ count: Int, harness: GatewayHarness, key: String, model: String = "gpt-4o",
                            maxTokens: Int? = nil) async -> [(text: String, finish: FinishReason?, error: ChatClientError?)] {
            let gateway = harness.gateway(key: key)
            let client = harness.client
            return await withTaskGroup(of: (String, FinishReason?, ChatClientError?).self) { group in
                for _ in 0..<count {
                    group.addTask {
                        let (events, error) = await collect(client.stream(chat(model, Self.prompt, maxTokens: maxTokens), to: gateway))
                        return (events.compactMap(\.content).joined(), events.last { $0.finishReason != nil }?.finishReason, error)
                    }
                }
                var results: [(text: String, finish: FinishReason?, error: ChatClientError?)] = []
                for await result in group { results.append(result) }
                return results
            }
        }

        @Test("60 concurrent gpt-4o streams, a monthly USD budget for ~10 answers: all served, spent <= budget and >= 90% of it", arguments: LedgerKind.available)
        func sixtyStreamsShareAMoneyBudget(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            harness.upstream.setDefaultScenario(Self.answer)
            // gpt-4o: $2.50 / M input, $10 / M output: 2,500,000 and 10,000,000 pico-USD per token.
            let answerCost = Int64(try Self.promptTokens()) * 2_500_000 + 200 * 10_000_000
            let budget = Money(picoUSD: 10 * answerCost)
            let key = try await harness.addUser("ada", budget: Budget(monthlyLimit: budget))
            let results = await Self.streams(60, harness: harness, key: key)
            // Streams that arrive once the first ones have spent the budget are refused (429); none fails otherwise.
            #expect(results.allSatisfy { $0.error == nil || $0.error?.isInsufficientQuota == true }, "\(results.compactMap(\.error))")
            let served = results.filter { $0.error == nil }.count
            #expect(served >= 30, "only \(served) of 60 streams were served")
            let records = try await harness.waitForRecords(user: "ada", count: served)
            #expect(records.count == served)
            let spent = records.reduce(0) { $0 + $1.costPicoUSD }
            #expect(spent <= budget.picoUSD)
            #expect(spent * 10 >= budget.picoUSD * 9, "spent \(spent) of \(budget.picoUSD) pUSD")
            print("60 streams, USD budget: \(served) served, spent \(spent) of \(budget.picoUSD) pUSD")
            // Each stream got its share of the budget: none was refused, the budget ended them at a token.
            #expect(records.allSatisfy { $0.status == "cut_by_budget" || $0.status == "completed" })
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("60 concurrent streams under a monthly token limit: billed tokens <= limit and >= 90% of it", arguments: LedgerKind.available)
        func sixtyStreamsShareATokenBudget(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            harness.upstream.setDefaultScenario(Self.answer)
            let limit = Int64(10 * (try Self.promptTokens() + 400))
            let key = try await harness.addUser("bob", budget: Budget(monthlyTokenLimit: limit))
            let results = await Self.streams(60, harness: harness, key: key)
            #expect(results.allSatisfy { $0.error == nil || $0.error?.isInsufficientQuota == true }, "\(results.compactMap(\.error))")
            let records = try await harness.waitForRecords(user: "bob", count: results.filter { $0.error == nil }.count)
            let billed = records.reduce(0) { $0 + $1.billedTokens }
            #expect(billed <= limit)
            #expect(billed * 10 >= limit * 9, "billed \(billed) of \(limit) tokens")
            print("60 streams, token budget: billed \(billed) of \(limit) tokens")
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("a per-request USD cap cuts each of 20 concurrent streams within it, at its last affordable token", arguments: LedgerKind.available)
        func perRequestCapUnderConcurrency(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            // Two tokens a chunk: the simulated upstream stops at the cap it is sent counting one token a chunk, so
            // the gateway's own cut comes first.
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: (0..<200).map { _ in " story time" }, interval: .milliseconds(2)))
            let promptCost = Int64(try Self.promptTokens()) * 2_500_000
            let cap = Money(picoUSD: promptCost + 75 * 10_000_000)  // 75 output tokens: two extensions past the first slice
            let key = try await harness.addUser("cy", budget: Budget(maxRequestCost: cap))
            let results = await Self.streams(20, harness: harness, key: key)
            #expect(results.allSatisfy { $0.finish == .length && $0.error == nil })
            let encoding = try Encoding.named(.o200k_base)
            #expect(results.allSatisfy { encoding.count($0.text) == 75 }, "\(results.map { encoding.count($0.text) })")
            let records = try await harness.waitForRecords(user: "cy", count: 20)
            #expect(records.allSatisfy { $0.costPicoUSD == cap.picoUSD && $0.status == "cut_by_budget" })
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("a stream's hold grows in slices: the ledger's hold stays ahead of the delivered tokens and below the cap")
        func holdGrowsAhead() async throws {
            let harness = try await GatewayHarness.start()
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: (0..<300).map { _ in " story" }, interval: .milliseconds(3)))
            // $0.04 pays for ~4,000 output tokens: the first slice is 1/16 of that (~250), below the cap of 400.
            let key = try await harness.addUser("dee", budget: Budget(monthlyLimit: Money(picoUSD: 4_000 * 10_000_000)))
            let stream = harness.client.stream(chat("gpt-4o", Self.prompt, maxTokens: 400), to: harness.gateway(key: key))
            var held: [Int64] = []
            var delivered = 0
            let encoding = try Encoding.named(.o200k_base)
            var text = ""
            for try await event in stream {
                text += event.content ?? ""
                delivered = encoding.count(text)
                if let hold = try await harness.ledgerConnection().read({ db in
                    try Int64.fetchOne(db, sql: "SELECT held_tokens FROM reservations")
                }) {
                    #expect(hold - Int64(try Self.promptTokens()) >= Int64(delivered))
                    held.append(hold)
                }
            }
            #expect(delivered == 300)
            #expect(Set(held).count > 1, "the hold never grew: \(Set(held))")
            #expect(held.max().map { $0 - Int64(try! Self.promptTokens()) <= 400 } == true)
            try await harness.expectBooksClosed()
            try await harness.stop()
        }
    }
}

/// Prompt tokens of `text` as one user message to an o200k_base model (chat rule: 3 per message, the role,
/// the text, 3 priming the reply; docs/CATALOG.md).
func userPromptTokens(_ text: String) throws -> Int {
    let encoding = try Encoding.named(.o200k_base)
    return 3 + encoding.count("user") + encoding.count(text) + 3
}

extension ChatClientError {
    /// Whether this is the gateway's 429 `insufficient_quota`.
    var isInsufficientQuota: Bool {
        if case .httpStatus(429, let body?, _) = self { return body.code == "insufficient_quota" }
        return false
    }
}

extension ServerTests {
    /// Hidden-output models (the catalog's `hidden_output`): the output cap is held up front and is what the
    /// upstream is sent; the fair share keeps one request from locking up the budget.
    @Suite("Hidden-output holds")
    struct HiddenOutputHoldTests {
        static let prompt = "Think hard"

        static func promptTokens() throws -> Int { try userPromptTokens(prompt) }

        @Test("a fresh $5 user's 10 concurrent gpt-5 requests without max_tokens are all served in full, each capped at the default 32,768")
        func tenReasoningRequestsOnFiveDollars() async throws {
            let harness = try await GatewayHarness.start()
            let answer = UpstreamScenario(chunks: (0..<100).map { _ in " story" }, interval: .milliseconds(2), reasoningTokens: 3_000)
            harness.upstream.setDefaultScenario(answer)
            let key = try await harness.addUser("eva", budget: Budget(monthlyLimit: Money(picoUSD: 5_000_000_000_000)))
            let results = await HoldTests.streams(10, harness: harness, key: key, model: "gpt-5")
            #expect(results.allSatisfy { $0.error == nil && $0.finish == .stop && $0.text == answer.text },
                    "\(results.map { ($0.finish.map { "\($0)" } ?? "-", $0.error.map { "\($0)" } ?? "ok") })")
            #expect(harness.upstream.records.count == 10)
            for record in harness.upstream.records {
                let body = try JSONParser.parse(record.body)
                #expect(body["max_completion_tokens"]?.intValue == 32_768)
                #expect(body["max_tokens"] == nil)
            }
            let records = try await harness.waitForRecords(user: "eva", count: 10)
            // gpt-5: $1.25 / M input, $10 / M output; the provider's count includes the 3,000 reasoning tokens.
            let cost = Int64(try Self.promptTokens()) * 1_250_000 + 3_100 * 10_000_000
            #expect(records.allSatisfy { $0.status == "completed" && $0.billedBy == "provider" && $0.costPicoUSD == cost })
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("on a tight budget a hidden-output request holds half of what is free, sends that as its cap, and never overspends")
        func fairShareOnATightBudget() async throws {
            let harness = try await GatewayHarness.start()
            // More reasoning than any share allows: the upstream stops at the cap it is sent (finish "length").
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["done"], reasoningTokens: 20_000))
            let budget = Money(picoUSD: 100_000_000_000)  // $0.10
            let key = try await harness.addUser("fin", budget: Budget(monthlyLimit: budget))
            let promptCost = Int64(try Self.promptTokens()) * 1_250_000
            let free = Int((budget.picoUSD - promptCost) / 10_000_000)
            let first = await collect(harness.client.stream(chat("gpt-5", Self.prompt, maxTokens: 100_000), to: harness.gateway(key: key)))
            #expect(first.error == nil)
            let sent = try JSONParser.parse(try #require(harness.upstream.records.first).body)
            #expect(sent["max_tokens"]?.intValue == Int64(free / 2), "the client's max_tokens is cut to half the free output")
            let results = await HoldTests.streams(6, harness: harness, key: key, model: "gpt-5", maxTokens: 100_000)
            #expect(results.allSatisfy { $0.error == nil || $0.error?.isInsufficientQuota == true })
            let records = try await harness.waitForRecords(user: "fin", count: 1 + results.filter { $0.error == nil }.count)
            let spent = records.reduce(0) { $0 + $1.costPicoUSD }
            #expect(spent <= budget.picoUSD, "spent \(spent) of \(budget.picoUSD)")
            #expect(records.allSatisfy { $0.billedBy == "provider" })
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("without a budget limit a hidden-output request is capped by the model's own maximum, not the default")
        func noDefaultCapWithoutALimit() async throws {
            let harness = try await GatewayHarness.start()
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"], reasoningTokens: 10))
            let key = try await harness.addUser("gil")
            _ = await collect(harness.client.stream(chat("gpt-5", Self.prompt), to: harness.gateway(key: key)))
            let body = try JSONParser.parse(try #require(harness.upstream.records.first).body)
            #expect(body["max_completion_tokens"]?.intValue == 128_000)
            try await harness.stop()
        }
    }
}
