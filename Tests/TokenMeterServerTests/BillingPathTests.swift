import Foundation
import GRDB
import Logging
import Testing
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream

extension ServerTests {
    /// Billing off the happy path: what is billed when the usual numbers are missing or wrong.
    @Suite("Billing off the happy path")
    struct BillingPathTests {
        @Test("a model without a price is refused with 400 model_not_priced before any upstream call; a zero price serves it free")
        func unpricedModelRefused() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tm-catalog-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let catalog = directory.appendingPathComponent("models.json")
            try """
                {"format": 1, "models": [
                  {"name": "acme-unpriced", "provider": "openai", "encoding": "o200k_base", "context_window": 8000, "max_output_tokens": 1000},
                  {"name": "acme-free", "provider": "openai", "encoding": "o200k_base", "context_window": 8000, "max_output_tokens": 1000,
                   "price": {"input": "0", "output": "0", "source": "declared free by the operator", "date": "2026-12-06"}}
                ]}
                """.write(to: catalog, atomically: true, encoding: .utf8)
            let harness = try await GatewayHarness.start { $0.catalogPath = catalog.path }
            let key = try await harness.addUser("pat")
            let (events, error) = await collect(harness.client.stream(chat("acme-unpriced"), to: harness.gateway(key: key)))
            #expect(events.isEmpty)
            guard case .httpStatus(400, let body?, _)? = error else {
                Issue.record("expected 400, got \(String(describing: error))")
                try await harness.stop()
                return
            }
            #expect(body.code == "model_not_priced")
            #expect(body.param == "model")
            #expect(harness.upstream.records.isEmpty, "no upstream call for a model that cannot be billed")
            #expect(try harness.records(user: "pat").isEmpty)

            let free = await collect(harness.client.stream(chat("acme-free"), to: harness.gateway(key: key)))
            #expect(free.error == nil)
            let records = try await harness.waitForRecords(user: "pat", count: 1)
            #expect(records.map(\.costPicoUSD) == [0])
            try await harness.stop()
        }
    }
}

extension ServerTests.BillingPathTests {
    @Test("a usage object the client cannot read (input_tokens/output_tokens) is billed by the local count, never $0, and warned about once per upstream")
    func unreadableUsageFallsBackToLocal() async throws {
        let lines = LogCapture()
        var logger = Logger(label: "tokenmeter-capture") { label in lines.handler(label: label) }
        logger.logLevel = .warning
        let harness = try await GatewayHarness.start(logger: logger)
        var scenario = UpstreamScenario(chunks: ["Hello", " there"])
        scenario.renamesUsageFields = true
        harness.upstream.setDefaultScenario(scenario)
        let key = try await harness.addUser("quin")
        for _ in 0..<2 {
            let (_, error) = await collect(harness.client.stream(chat("gpt-4o-mini", "Say hello"), to: harness.gateway(key: key)))
            #expect(error == nil)
        }
        let records = try await harness.waitForRecords(user: "quin", count: 2)
        #expect(records.allSatisfy { $0.billedBy == "local" && $0.costPicoUSD > 0 && $0.completionTokens == 2 })
        #expect(lines.text.components(separatedBy: "usage without prompt_tokens").count - 1 == 1, "\(lines.text)")
        try await harness.stop()
    }
}

extension ServerTests.BillingPathTests {
    /// gpt-5: $1.25 / M input, $10 / M output (pico-USD per token).
    static let gpt5Input: Int64 = 1_250_000, gpt5Output: Int64 = 10_000_000

    @Test("a reasoning model's stream the client leaves is billed its held output as estimated hidden tokens, never 0 completion tokens")
    func cancelledReasoningStreamBillsTheHold() async throws {
        let harness = try await GatewayHarness.start()
        harness.upstream.setDefaultScenario(UpstreamScenario(chunks: (0..<200).map { _ in " word" }, interval: .milliseconds(10),
                                                             reasoningTokens: 500))
        let key = try await harness.addUser("rae", budget: Budget(monthlyLimit: Money(picoUSD: 5_000_000_000_000)))
        let stream = harness.client.stream(chat("gpt-5", "Think", maxTokens: 2_000), to: harness.gateway(key: key))
        var delivered = 0
        for try await event in stream where event.content != nil {
            delivered += 1
            if delivered == 5 { stream.cancel(); break }
        }
        let records = try await harness.waitForRecords(user: "rae", count: 1)
        let record = try #require(records.first)
        #expect(record.status == "client_cancelled")
        #expect(record.billedBy == "local")
        // The hold was the client's cap (2,000); everything not delivered is billed as estimated hidden output.
        #expect(record.completionTokens == 2_000)
        #expect(record.estimatedCompletionTokens == 2_000 - Int64(delivered))
        #expect(record.costPicoUSD == record.promptTokens * Self.gpt5Input + 2_000 * Self.gpt5Output)
        #expect(record.estimatedPicoUSD == record.estimatedCompletionTokens * Self.gpt5Output)
        try await harness.expectBooksClosed()
        try await harness.stop()
    }

    @Test("billing.unreported_hidden_output_percent: 25 bills a quarter of the undelivered hold, also when a stream completes without usage; visible models estimate nothing")
    func estimateShareIsConfigurable() async throws {
        let harness = try await GatewayHarness.start { $0.unreportedHiddenOutputPercent = 25 }
        // A server that ignores include_usage: the stream completes, but no usage says what the reasoning cost.
        harness.upstream.setDefaultScenario(UpstreamScenario(chunks: [" a", " b", " c"], reasoningTokens: 100, sendsUsage: false))
        let key = try await harness.addUser("sam")
        _ = await collect(harness.client.stream(chat("gpt-5", "Think", maxTokens: 1_003), to: harness.gateway(key: key)))
        _ = await collect(harness.client.stream(chat("gpt-4o", "Talk", maxTokens: 1_003), to: harness.gateway(key: key)))
        let records = try await harness.waitForRecords(user: "sam", count: 2)
        #expect(records.map(\.status) == ["completed", "completed"])
        // 1,000 held and not delivered: a quarter is estimated.
        #expect(records[0].completionTokens == 3 + 250 && records[0].estimatedCompletionTokens == 250)
        #expect(records[1].completionTokens == 3 && records[1].estimatedCompletionTokens == 0 && records[1].estimatedPicoUSD == 0)
        try await harness.stop()
    }
}

extension ServerTests.BillingPathTests {
    @Test("on the gateway a declared image size never lowers the count, and a file part is refused with 400 naming it, before any upstream call")
    func promptPartsThatCannotBeCounted() async throws {
        let harness = try await GatewayHarness.start()
        let key = try await harness.addUser("tad")
        let declared = #"""
            {"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": [
              {"type": "text", "text": "What is this?"},
              {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high", "width": 1, "height": 1}}]}]}
            """#
        let (status, _) = try curl(harness.baseURL + "/v1/chat/completions", key: key, body: Array(declared.utf8))
        #expect(status == 200)
        let records = try await harness.waitForRecords(user: "tad", count: 1)
        // An image of unknown size at high detail counts 1,445 (8 tiles); declared 1x1 it would count 255.
        #expect((records.first?.promptTokens ?? 0) > 1_445)

        let file = #"""
            {"model": "gpt-4o", "messages": [{"role": "user", "content": [
              {"type": "text", "text": "Summarise"}, {"type": "file", "file": {"file_id": "file-abc"}}]}]}
            """#
        let (refused, body) = try curl(harness.baseURL + "/v1/chat/completions", key: key, body: Array(file.utf8))
        #expect(refused == 400)
        let error = try JSONParser.parse(Array(body.utf8))["error"]
        #expect(error?["code"]?.stringValue == "unsupported_content_part")
        #expect(error?["param"]?.stringValue == "messages[0].content[1]")
        #expect(harness.upstream.records.count == 1, "no upstream call for the refused request")
        try await harness.stop()
    }
}

extension ServerTests.BillingPathTests {
    @Test("a bill above its hold (the provider counted a larger prompt) is recorded as an overrun and counted in the month's spend")
    func overrunRecorded() async throws {
        let harness = try await GatewayHarness.start()
        // The provider reports 1,000 prompt tokens where the gateway counted about a dozen.
        harness.upstream.setDefaultScenario(UpstreamScenario(chunks: [" ok"], promptTokens: 1_000))
        let key = try await harness.addUser("uma", budget: Budget(monthlyLimit: Money(picoUSD: 1_000_000_000_000)))
        _ = await collect(harness.client.stream(chat("gpt-4o", "Say ok", maxTokens: 5), to: harness.gateway(key: key)))
        let records = try await harness.waitForRecords(user: "uma", count: 1)
        let cost = try #require(records.first?.costPicoUSD)
        #expect(cost == 1_000 * 2_500_000 + 1 * 10_000_000, "billed by the provider's counts")
        let (overrun, held, spent) = try await harness.ledgerConnection().read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT overrun_pusd FROM usage_records"))
            let month = try #require(try Row.fetchOne(db, sql: "SELECT cost_pusd FROM monthly_usage"))
            let prompt = Int64(try userPromptTokens("Say ok"))
            return (row["overrun_pusd"] as Int64, prompt * 2_500_000 + 5 * 10_000_000, month["cost_pusd"] as Int64)
        }
        #expect(overrun == cost - held)
        #expect(spent == cost)
        try await harness.stop()
    }
}

extension ServerTests.BillingPathTests {
    /// Runs one request of `model` with `tier` (nil: none) and returns the cost its record bills.
    static func tierRecord(_ harness: GatewayHarness, key: String, user: String, model: String, tier: String?,
                           count: Int) async throws -> Int64 {
        var request = chat(model, "Hi", maxTokens: 50)
        if let tier { request.body["service_tier"] = .string(tier) }
        let (_, error) = await collect(harness.client.stream(request, to: harness.gateway(key: key)))
        #expect(error == nil)
        return try #require(try await harness.waitForRecords(user: user, count: count).last).costPicoUSD
    }

    @Test("service_tier: priority and flex are billed at their catalog prices, the tier the upstream reports wins, and a tier the catalog cannot price (or one that is not a string) is refused with 400 naming service_tier")
    func serviceTiersArePriced() async throws {
        let harness = try await GatewayHarness.start()
        // The provider's counts: 9 prompt tokens, 2 completion tokens.
        harness.upstream.setDefaultScenario(UpstreamScenario(chunks: [" a", " b"]))
        let key = try await harness.addUser("val", budget: Budget(monthlyLimit: Money(picoUSD: 1_000_000_000_000)))
        // gpt-5 priority: $2.50 / $20.00 per M; o3 flex: $1.00 / $4.00; standard gpt-5: $1.25 / $10.00.
        let priority = try await Self.tierRecord(harness, key: key, user: "val", model: "gpt-5", tier: "priority", count: 1)
        #expect(priority == 9 * 2_500_000 + 2 * 20_000_000)
        let flex = try await Self.tierRecord(harness, key: key, user: "val", model: "o3", tier: "flex", count: 2)
        #expect(flex == 9 * 1_000_000 + 2 * 4_000_000)
        let standard = try await Self.tierRecord(harness, key: key, user: "val", model: "gpt-5", tier: "auto", count: 3)
        #expect(standard == 9 * 1_250_000 + 2 * 10_000_000)
        // Asked auto, served priority (a project whose default is priority): the reported tier's prices.
        var served = UpstreamScenario(chunks: [" a", " b"])
        served.servedTier = "priority"
        harness.upstream.setDefaultScenario(served)
        let upgraded = try await Self.tierRecord(harness, key: key, user: "val", model: "gpt-5", tier: nil, count: 4)
        #expect(upgraded == 9 * 2_500_000 + 2 * 20_000_000)

        for (model, tier) in [("gpt-5", "scale"), ("o1", "priority")] {
            var request = chat(model, "Hi")
            request.body["service_tier"] = .string(tier)
            let (_, error) = await collect(harness.client.stream(request, to: harness.gateway(key: key)))
            guard case .httpStatus(400, let body?, _)? = error else {
                Issue.record("\(model) \(tier): expected 400, got \(String(describing: error))")
                continue
            }
            #expect(body.param == "service_tier", "\(model) \(tier)")
        }
        let notAString = #"{"model": "gpt-5", "service_tier": 1, "messages": [{"role": "user", "content": "Hi"}]}"#
        let (status, body) = try curl(harness.baseURL + "/v1/chat/completions", key: key, body: Array(notAString.utf8))
        #expect(status == 400)
        #expect(try JSONParser.parse(Array(body.utf8))["error"]?["param"]?.stringValue == "service_tier")
        #expect(harness.upstream.records.count == 4, "no upstream call for a tier that cannot be priced")
        try await harness.stop()
    }
}

extension ServerTests.BillingPathTests {
    @Test("gpt-3.5-turbo-1106 is billed at its own price, and the admin report shows each model's drift between local and provider counts")
    func snapshotPricesAndDriftThroughTheServer() async throws {
        let harness = try await GatewayHarness.start()
        // The provider reports 20 prompt tokens and 2 completion tokens; the gateway counts its own.
        harness.upstream.setDefaultScenario(UpstreamScenario(chunks: [" a", " b"], promptTokens: 20))
        let key = try await harness.addUser("wes")
        _ = await collect(harness.client.stream(chat("gpt-3.5-turbo-1106", "Hi"), to: harness.gateway(key: key)))
        let records = try await harness.waitForRecords(user: "wes", count: 1)
        // gpt-3.5-turbo-1106: $1.00 / $2.00 per M (0125 would be $0.50 / $1.50).
        #expect(records.first?.costPicoUSD == Int64(20 * 1_000_000 + 2 * 2_000_000))
        let local = try #require(records.first?.promptTokens)

        let admin = "Authorization: Bearer admin-key-0123456789abcdef"
        let json = try curl(harness.baseURL + "/admin/reports/monthly?format=json", method: "GET", key: nil, headers: [admin])
        #expect(json.status == 200)
        let report = try JSONParser.parse(Data(json.body.utf8))
        let drift = report["totals"]?["drift"]
        #expect(drift?["local_prompt_tokens"]?.intValue == local)
        #expect(drift?["provider_prompt_tokens"]?.intValue == 20)
        #expect(drift?["prompt_tokens"]?.intValue == 20 - local)
        #expect(drift?["completion_tokens"]?.intValue == 0)
        try await harness.stop()
    }
}
