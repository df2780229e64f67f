import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterTestSupport

extension ServerTests {
    @Suite("Budget alerts")
    struct AlertTests {
        static let secret = "whsec-0123456789abcdef"

        @Test("a user crossing 80% and 100% under 20 concurrent streams produces exactly two signed webhook calls", arguments: LedgerKind.available)
        func twoSignedCalls(_ ledger: LedgerKind) async throws {
            let receiver = try await WebhookReceiver.start()
            let harness = try await GatewayHarness.start(ledger: ledger) { c in
                c.alerts.webhookURL = receiver.url
                c.alerts.webhookSecret = Self.secret
            }
            // The price of one request, from another user, sets a limit of ten of them.
            let probe = try await harness.addUser("probe")
            _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: probe)))
            let one = try await harness.waitForRecords(user: "probe", count: 1)[0].costPicoUSD
            let limit = Money(picoUSD: one * 10)
            let key = try await harness.addUser("ann", budget: Budget(monthlyLimit: limit))
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask { _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key))) }
                }
            }
            var calls = try await receiver.waitFor(2)
            try await Task.sleep(for: .milliseconds(500))  // a third, if any, would arrive meanwhile
            // Later requests, refused or not, change nothing: each threshold has fired for the month.
            for _ in 0..<3 { _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key))) }
            try await Task.sleep(for: .milliseconds(500))
            calls = receiver.received
            #expect(calls.count == 2, "\(calls.map { String(decoding: $0.body, as: UTF8.self) })")
            for call in calls {
                #expect(call.isSigned(with: Self.secret), "\(call.headers)")
                #expect(call.headers["content-type"] == "application/json")
                let body = call.json
                #expect(body["type"] as? String == "budget.threshold_crossed")
                #expect(body["user"] as? String == "ann" && body["limit_kind"] as? String == "usd")
                #expect(body["limit"] as? String == limit.formatted(symbol: ""))
                #expect(body["month"] as? String == BillingPeriod(containing: Date()).description)
                #expect(call.headers["x-tokenmeter-alert-id"] == "\(body["alert_id"] as? Int ?? -1)")
            }
            #expect(Set(calls.compactMap { $0.json["threshold_percent"] as? Int }) == [80, 100])
            for body in calls.map(\.json) {
                // Either the settled spend reached the threshold, or the limit (spend plus live holds) had nothing
                // left for a request: with 20 streams at once the holds can refuse some before the spend is there.
                let threshold = Int64(body["threshold_percent"] as? Int ?? 0)
                let spentThen = try #require(Money(body["spent"] as? String ?? "")).picoUSD
                switch body["reason"] as? String {
                case "spent": #expect(spentThen * 100 >= limit.picoUSD * threshold)
                case "limit_reached": #expect(spentThen * 100 < limit.picoUSD * threshold)
                case let other: Issue.record("reason \(String(describing: other))")
                }
            }
            let spent = try harness.records(user: "ann").map(\.costPicoUSD).reduce(0, +)
            #expect(spent <= limit.picoUSD, "the budget held")
            // The console lists both, delivered.
            let page = try consoleRequest(harness.baseURL + "/console/alerts", cookie: try harness.consoleSignIn()).body
            #expect(page.components(separatedBy: "delivered 20").count - 1 == 2, "\(page)")
            try await harness.stop()
            try await receiver.stop()
        }

        @Test("a failed webhook call is retried with the same alert id and signature until it is delivered; token limits alert too")
        func retried() async throws {
            let receiver = try await WebhookReceiver.start(failFirst: 2)
            let harness = try await GatewayHarness.start { c in
                c.alerts.webhookURL = receiver.url
                c.alerts.webhookSecret = Self.secret
                c.alerts.thresholdsPercent = [50]
                c.alerts.firstRetry = .milliseconds(100)
            }
            let key = try await harness.addUser("tok", budget: Budget(monthlyTokenLimit: 20))
            _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            let records = try await harness.waitForRecords(user: "tok", count: 1)
            #expect(records[0].billedTokens >= 10, "the scenario uses half the token limit")
            let calls = try await receiver.waitFor(3)
            #expect(calls.count == 3)
            #expect(Set(calls.compactMap { $0.headers["x-tokenmeter-alert-id"] }).count == 1)
            #expect(calls.allSatisfy { $0.isSigned(with: Self.secret) && $0.body == calls[0].body })
            let body = calls[0].json
            #expect(body["limit_kind"] as? String == "tokens" && body["limit"] as? Int == 20 && body["threshold_percent"] as? Int == 50)
            #expect(body["spent"] as? Int == Int(records[0].billedTokens))
            try await Task.sleep(for: .milliseconds(200))
            let page = try consoleRequest(harness.baseURL + "/console/alerts", cookie: try harness.consoleSignIn()).body
            #expect(page.contains("delivered 20") && page.contains("50%"), "\(page)")
            try await harness.stop()
            try await receiver.stop()
        }

        @Test("an alert whose sender stopped before delivering it is sent by the next instance, once", arguments: LedgerKind.available)
        func resentAfterStop(_ ledger: LedgerKind) async throws {
            // The first gateway's webhook refuses connections, and its next retry is a minute away when it stops.
            let first = try await GatewayHarness.start(ledger: ledger) { c in
                c.alerts.webhookURL = "http://127.0.0.1:9/hook"
                c.alerts.webhookSecret = Self.secret
                c.alerts.thresholdsPercent = [50]
                c.alerts.firstRetry = .seconds(60)
                c.alerts.resendAfter = .seconds(1)
            }
            let key = try await first.addUser("resend", budget: Budget(monthlyTokenLimit: 20))
            _ = await collect(first.client.stream(chat(), to: first.gateway(key: key)))
            _ = try await first.waitForRecords(user: "resend", count: 1)
            let cookie = try first.consoleSignIn()
            let deadline = ContinuousClock.now + .seconds(10)
            var page = ""
            while ContinuousClock.now < deadline {
                page = try consoleRequest(first.baseURL + "/console/alerts", cookie: cookie).body
                if page.contains("not delivered after 1 attempt") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(page.contains("not delivered after 1 attempt"), "\(page)")
            try await first.stop(keepUpstream: true)

            let receiver = try await WebhookReceiver.start()
            let second = try await GatewayHarness.start(upstream: first.upstream, databasePath: first.databasePath) { c in
                c.alerts.webhookURL = receiver.url
                c.alerts.webhookSecret = Self.secret
                c.alerts.thresholdsPercent = [50]
                c.alerts.resendAfter = .seconds(1)
                c.alerts.sweepInterval = .milliseconds(200)
            }
            let calls = try await receiver.waitFor(1)
            try await Task.sleep(for: .milliseconds(800))  // more sweeps: none may send it again
            #expect(receiver.received.count == 1)
            #expect(calls.first.map { $0.isSigned(with: Self.secret) } == true)
            #expect(calls.first?.json["user"] as? String == "resend" && calls.first?.json["threshold_percent"] as? Int == 50)
            let after = try consoleRequest(second.baseURL + "/console/alerts", cookie: try second.consoleSignIn()).body
            #expect(after.contains("delivered 20"), "\(after)")
            try await second.stop()
            try await first.upstream.shutdown()
            try await receiver.stop()
        }

        @Test("with no webhook an alert is still recorded once, logged and counted in the metrics")
        func withoutWebhook() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("nohook", budget: Budget(monthlyTokenLimit: 60))
            // 13 billed tokens each: the fourth passes 80% of 60.
            for _ in 0..<5 { _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key))) }
            _ = try await harness.waitForRecords(user: "nohook", count: 4)
            let deadline = ContinuousClock.now + .seconds(5)
            var metrics = ""
            while ContinuousClock.now < deadline {
                metrics = try curl(harness.baseURL + "/metrics", method: "GET", key: nil).body
                if metrics.contains(#"tokenmeter_budget_alerts_total{limit="tokens",threshold="80"} 1"#) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(metrics.contains(#"tokenmeter_budget_alerts_total{limit="tokens",threshold="80"} 1"#), "\(metrics)")
            let page = try consoleRequest(harness.baseURL + "/console/alerts", cookie: try harness.consoleSignIn()).body
            #expect(page.contains("no webhook is configured") && page.contains(">nohook<"))
            try await harness.stop()
        }
    }
}
