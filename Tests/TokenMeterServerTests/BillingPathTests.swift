import Foundation
import Logging
import Testing
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger
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
