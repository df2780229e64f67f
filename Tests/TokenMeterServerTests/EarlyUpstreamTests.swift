import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterSimulatedUpstream

extension ServerTests {
    /// The upstream request may start while the reservation commits (docs/SERVER.md, pre-flight); these
    /// check the guarantees that come with it.
    @Suite("Upstream started before the reservation commits")
    struct EarlyUpstreamTests {
        @Test("a reservation refused after the upstream was started early answers 429; the upstream never gets the whole request; nothing is billed")
        func refusedReservationCancelsUpstream() async throws {
            let harness = try await GatewayHarness.start { $0.earlyUpstreamStart = true }
            let key = try await harness.addUser("kim", budget: Budget(monthlyTokenLimit: 10_000))
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"]))
            // The first request leaves the user's budget status in memory: plenty left for 50 more tokens.
            let (first, firstError) = await collect(harness.client.stream(chat("gpt-4o-mini", maxTokens: 50), to: harness.gateway(key: key)))
            #expect(firstError == nil)
            #expect(!first.isEmpty)
            _ = try await harness.waitForRecords(user: "kim", count: 1)

            // Another process (the CLI) cuts the budget below the prompt; the gateway's cached authentication
            // still carries the old budget, so it may start the upstream before its reservation sees the new one.
            var configuration = SQLiteUsageStore.Configuration()
            configuration.role = .administration
            let admin = try SQLiteUsageStore(path: harness.databasePath, configuration: configuration)
            let user = try await admin.user(named: "kim")
            _ = try await admin.updateBudget(userID: user.id, BudgetPatch(monthlyTokenLimit: .set(5)))
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["never", " sent"], headerDelay: .milliseconds(300)))

            let (events, error) = await collect(harness.client.stream(chat("gpt-4o-mini", maxTokens: 50), to: harness.gateway(key: key)))
            #expect(events.isEmpty)
            guard case .httpStatus(429, let body?, _)? = error else { Issue.record("expected 429, got \(String(describing: error))"); return }
            #expect(body.code == "insufficient_quota")
            // The request went upstream all but its last byte, which waits for the reservation: refused, the
            // connection closed with the request unfinished, so the upstream never had one to run.
            try await Task.sleep(for: .milliseconds(100))
            #expect(harness.upstream.records.count == 1)
            #expect(try harness.records(user: "kim").count == 1)
            try await harness.stop()
        }
    }
}
