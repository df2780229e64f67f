import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterTestSupport
import TokenMeterSimulatedUpstream
import TokenMeterJSON

extension ServerTests {
    @Suite("SDK, restart, load and operations")
    struct OperationsTests {
        @Test("the official openai Python SDK streams and completes through the gateway unchanged", arguments: LedgerKind.available)
        func officialPythonSDK(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            let key = try await harness.addUser("sdk")
            let scenario = UpstreamScenario(chunks: ["Streaming", " through", " TokenMeter", " — ok ✓"], promptTokens: 12)
            harness.upstream.setDefaultScenario(scenario)
            guard let (status, text) = await Self.runSDKScript("openai_sdk_check.py", [harness.baseURL + "/v1", key, "gpt-4o-mini", scenario.text]) else {
                try await harness.stop()
                return
            }
            #expect(status == 0, "\(text)")
            #expect(text.contains(#""stream_text": "Streaming through TokenMeter — ok ✓""#), "\(text)")
            let records = try await harness.waitForRecords(user: "sdk", count: 2)
            #expect(records.map(\.status) == ["completed", "completed"], "the wrong key is not billed")
            // The SDK's `_request_id` of the non-streamed answer is its ledger record's request id.
            #expect(text.contains(#""request_id": "\#(records[1].requestID)""#), "\(text)")
            try await harness.stop()
        }

        /// Runs `scripts/<name>` with python3 and `arguments`; nil (and the SDK reported missing) when python3 or the
        /// SDK `package` is not there. The output is read on a separate thread so that the server, in this
        /// process, keeps running while Python waits on it.
        static func runSDKScript(_ name: String, _ arguments: [String], package: String = "openai") async -> (status: Int32, output: String)? {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/\(name)").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            do { try process.run() } catch {
                missing("python3 with the \(package) package (\(error))")
                return nil
            }
            let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
            process.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            // 127: env found no python3; 77: the script found no SDK package.
            if process.terminationStatus == 127 || process.terminationStatus == 77 {
                missing("python3 with the \(package) package (pip install \(package); make test installs it): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
                return nil
            }
            return (process.terminationStatus, text)
        }

        /// Without the SDK the test cannot say anything: a known issue in a plain `swift test` (it shows in the
        /// summary without failing the run), a failure under `make test` (TestRequirement).
        static func missing(_ what: String) {
            let reason = Comment(rawValue: TestRequirement.Missing(what: what).description)
            if TestRequirement.allRequired {
                Issue.record(reason)
            } else {
                withKnownIssue(reason) { Issue.record(reason) }
            }
        }

        @Test("a restarted server on the same database keeps the books and the keys", arguments: LedgerKind.available)
        func restartWithSameDatabase(_ ledger: LedgerKind) async throws {
            let upstream = try await SimulatedUpstream.start()
            let first = try await GatewayHarness.start(upstream: upstream, ledger: ledger)
            let key = try await first.addUser("ray", budget: Budget(monthlyTokenLimit: 10_000))
            _ = await collect(first.client.stream(chat(), to: first.gateway(key: key)))
            _ = try await first.waitForRecords(user: "ray", count: 1)
            try await first.stop()
            let second = try await GatewayHarness.start(upstream: upstream, databasePath: first.databasePath)
            let (events, error) = await collect(second.client.stream(chat(), to: second.gateway(key: key)))
            #expect(error == nil)
            #expect(!events.isEmpty)
            let records = try await second.waitForRecords(user: "ray", count: 2)
            #expect(records.map(\.status) == ["completed", "completed"])
            let usage = try curl(second.baseURL + "/v1/usage", method: "GET", key: key)
            #expect(usage.status == 200)
            let json = try JSONParser.parse(Data(usage.body.utf8))
            #expect(json["requests"]?.intValue == 2)
            let billed = records.reduce(0) { $0 + $1.billedTokens }
            #expect(json["billed_tokens"]?.intValue == billed)
            #expect(json["this_month"]?["remaining_tokens"]?.intValue == 10_000 - billed)
            try await second.stop()
            try await upstream.shutdown()
        }

        @Test("40 users streaming at once each get their exact text and exactly one record", arguments: LedgerKind.available)
        func manyUsersAtOnce(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            let scenario = UpstreamScenario(chunks: (0..<30).map { "part\($0) " }, interval: .milliseconds(3))
            harness.upstream.setDefaultScenario(scenario)
            var keys: [String] = []
            for i in 0..<40 { keys.append(try await harness.addUser("user\(i)")) }
            let client = harness.client
            let upstreams = keys.map { harness.gateway(key: $0) }
            let texts = await withTaskGroup(of: String.self) { group in
                for upstream in upstreams {
                    group.addTask { await collect(client.stream(chat(), to: upstream)).events.compactMap(\.content).joined() }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(texts.count == 40)
            #expect(texts.allSatisfy { $0 == scenario.text })
            for i in 0..<40 {
                #expect(try await harness.waitForRecords(user: "user\(i)", count: 1).map(\.status) == ["completed"])
            }
            try await harness.stop()
        }

        @Test("healthz, models, metrics and the admin API answer; admin needs the admin key")
        func operationsEndpoints() async throws {
            let harness = try await GatewayHarness.start()
            #expect(try curl(harness.baseURL + "/healthz", method: "GET", key: nil).body == #"{"status":"ok"}"#)
            let admin = "Authorization: Bearer admin-key-0123456789abcdef"
            #expect(try curl(harness.baseURL + "/admin/users", method: "GET", key: "wrong").status == 401)
            let created = try curl(harness.baseURL + "/admin/users", key: nil, body: Array(#"{"name":"sam","monthly_usd":"1.50"}"#.utf8), headers: [admin])
            #expect(created.status == 201, "\(created.body)")
            let issued = try curl(harness.baseURL + "/admin/users/sam/keys", key: nil, headers: [admin])
            #expect(issued.status == 201)
            let key = try #require(try JSONParser.parse(Data(issued.body.utf8))["key"]?.stringValue)
            let models = try curl(harness.baseURL + "/v1/models", method: "GET", key: key)
            #expect(models.status == 200)
            #expect(models.body.contains(#""id":"gpt-4o-mini""#))
            _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            _ = try await harness.waitForRecords(user: "sam", count: 1)
            let usage = try JSONParser.parse(Data(try curl(harness.baseURL + "/v1/usage", method: "GET", key: key).body.utf8))
            #expect(usage["budget"]?["monthly_usd"]?.stringValue == "1.50")
            #expect(usage["requests"]?.intValue == 1)
            #expect(usage["models"]?.arrayValue?.first?["local_count"]?.stringValue == "exact")
            let metrics = try curl(harness.baseURL + "/metrics", method: "GET", key: nil).body
            #expect(metrics.contains(#"tokenmeter_requests_total{status="completed"} 1"#), "\(metrics)")
            #expect(metrics.contains("tokenmeter_upstream_ttft_seconds_bucket"))
            #expect(metrics.contains("tokenmeter_active_streams 0"))
            try await harness.stop()
        }

        @Test("admins get the monthly report over HTTP in every format, with the ledger's figures")
        func monthlyReportRoute() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("rio")
            _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            let records = try await harness.waitForRecords(user: "rio", count: 1)
            let admin = "Authorization: Bearer admin-key-0123456789abcdef"
            let url = harness.baseURL + "/admin/reports/monthly"
            #expect(try curl(url, method: "GET", key: "wrong").status == 401)
            let json = try curl(url + "?format=json", method: "GET", key: nil, headers: [admin])
            #expect(json.status == 200, "\(json.body)")
            let report = try JSONParser.parse(Data(json.body.utf8))
            #expect(report["totals"]?["requests"]?.intValue == 1, "\(json.body.prefix(400))")
            #expect(report["totals"]?["billed_tokens"]?.intValue == records[0].billedTokens)
            let csv = try curl(url + "?format=csv&user=rio", method: "GET", key: nil, headers: [admin])
            #expect(csv.status == 200)
            #expect(csv.body.hasPrefix("month,user,"))
            #expect(csv.body.contains("rio,"))
            let html = try curl(url + "?format=html", method: "GET", key: nil, headers: [admin])
            #expect(html.status == 200)
            #expect(html.body.contains("<svg"))
            #expect(try curl(url + "?month=2026-13", method: "GET", key: nil, headers: [admin]).status == 400)
            #expect(try curl(url + "?format=pdf", method: "GET", key: nil, headers: [admin]).status == 400)
            #expect(try curl(url + "?user=nobody", method: "GET", key: nil, headers: [admin]).status == 404)
            try await harness.stop()
        }
    }
}

extension ServerTests {
    @Suite("Graceful shutdown")
    struct ShutdownTests {
        @Test("on shutdown a running stream continues for the grace period, then is cut with an error event and settled as interrupted")
        func shutdownCutsAfterGrace() async throws {
            let harness = try await GatewayHarness.start { $0.shutdownGrace = .milliseconds(300) }
            let key = try await harness.addUser("tia")
            harness.upstream.setDefaultScenario(UpstreamScenario.counting(400, interval: .milliseconds(20)))
            let stream = harness.client.stream(chat(), to: harness.gateway(key: key))
            let reader = Task { await collect(stream) }
            _ = await harness.upstream.waitUntil(timeout: .seconds(2)) { ($0.first?.chunksWritten ?? 0) >= 3 }
            let began = ContinuousClock.now
            // The client stays up until it has read the end of the stream: the server stops right after writing it.
            try await harness.stop(keepUpstream: true, keepClient: true)
            let stoppedAfter = ContinuousClock.now - began
            let (events, error) = await reader.value
            harness.client.shutdown()
            let text = events.compactMap(\.content).joined()
            #expect(stoppedAfter >= .milliseconds(300) && stoppedAfter < .seconds(3), "stopped after \(stoppedAfter)")
            guard case .providerError(let body)? = error else { Issue.record("expected an error event, got \(String(describing: error))"); return }
            #expect(body.code == "server_shutdown")
            #expect(text.count > 3 * 3, "the stream kept going during the grace period: \(text)")
            let records = try harness.records(user: "tia")
            #expect(records.map(\.status) == ["interrupted"])
            #expect(records.first?.completionTokens ?? 0 > 0)
            try await harness.upstream.shutdown()
        }
    }
}
