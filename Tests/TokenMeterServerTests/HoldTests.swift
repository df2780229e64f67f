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

        /// Prompt tokens of `prompt` as one user message (chat rule: 3 per message + role + text, 3 priming).
        static func promptTokens() throws -> Int {
            let encoding = try Encoding.named(.o200k_base)
            return 3 + encoding.count("user") + encoding.count(prompt) + 3
        }

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

        @Test("60 concurrent gpt-4o streams, a monthly USD budget for ~10 answers: all served, spent <= budget and >= 90% of it")
        func sixtyStreamsShareAMoneyBudget() async throws {
            let harness = try await GatewayHarness.start()
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

        @Test("60 concurrent streams under a monthly token limit: billed tokens <= limit and >= 90% of it")
        func sixtyStreamsShareATokenBudget() async throws {
            let harness = try await GatewayHarness.start()
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

        @Test("a per-request USD cap cuts each of 20 concurrent streams within it, at its last affordable token")
        func perRequestCapUnderConcurrency() async throws {
            let harness = try await GatewayHarness.start()
            harness.upstream.setDefaultScenario(Self.answer)
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

extension ChatClientError {
    /// Whether this is the gateway's 429 `insufficient_quota`.
    var isInsufficientQuota: Bool {
        if case .httpStatus(429, let body?, _) = self { return body.code == "insufficient_quota" }
        return false
    }
}
