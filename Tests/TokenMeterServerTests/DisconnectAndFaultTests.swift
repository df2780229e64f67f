import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer

extension ServerTests {
    @Suite("Client disconnects and upstream faults")
    struct DisconnectAndFaultTests {
        @Test("a client that leaves after K chunks closes the upstream within 50 ms; the record holds the K chunks")
        func disconnectPropagates() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("jon")
            let scenario = UpstreamScenario.counting(200, interval: .milliseconds(20))
            harness.upstream.setDefaultScenario(scenario)
            let k = 5
            let stream = harness.client.stream(chat(), to: harness.gateway(key: key))
            let reader = Task { () -> (String, ContinuousClock.Instant) in
                var text = ""
                var chunks = 0
                for try await event in stream {
                    if let c = event.content, !c.isEmpty { text += c; chunks += 1 }
                    if chunks == k { break }  // leaving the loop drops the iterator: the client closes its socket
                }
                return (text, ContinuousClock.now)
            }
            let (text, leftAt) = try await reader.value
            let closed = await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil }
            #expect(closed)
            let wentAway = try #require(harness.upstream.records.first?.clientWentAwayAt)
            #expect(wentAway - leftAt < .milliseconds(50), "upstream closed \(wentAway - leftAt) after the client left")
            let records = try await harness.waitForRecords(user: "jon", count: 1)
            #expect(records.first?.status == "client_cancelled")
            #expect(records.first?.completionTokens == Int64(try Encoding.named(.o200k_base).count(text)))
            #expect(text == scenario.chunks.prefix(k).joined())
            try await harness.stop()
        }

        @Test("a connection stays open for the next request after streamed and non-streamed answers, and a client leaving on a reused connection still closes the upstream")
        func keepAliveAndDisconnectOnAReusedConnection() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("kai")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["a", "b", "c"], promptTokens: 5))
            // curl's num_connects per transfer: 1 for the first, 0 for each that reused the connection (a
            // connection the server closed would show as 1 again: curl retries on a fresh one).
            let url = harness.baseURL + "/v1/chat/completions"
            var args = ["-s", "-S", "--noproxy", "*", "--max-time", "60"]
            for (index, streaming) in [true, true, false, true].enumerated() {
                if index > 0 { args.append("--next") }
                args += ["-o", "/dev/null", "-w", "%{num_connects} ", "-H", "Authorization: Bearer \(key)",
                         "-H", "Content-Type: application/json",
                         "-d", #"{"model":"gpt-4o-mini","stream":\#(streaming),"messages":[{"role":"user","content":"hi"}]}"#, url]
            }
            let printed = try runCurl(args)
            #expect(printed == "1 0 0 0 ", "connections opened per request: \(printed)")
            let records = try await harness.waitForRecords(user: "kai", count: 4)
            #expect(records.map(\.status) == Array(repeating: "completed", count: 4))

            // Our client pools connections too: a finished stream leaves its connection for the next one, which
            // the client then leaves after two chunks; the gateway must still notice and close the upstream.
            harness.upstream.setScenario(UpstreamScenario.counting(200, interval: .milliseconds(20)), forModel: "gpt-4o")
            let (_, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(error == nil)
            var chunks = 0
            for try await event in harness.client.stream(chat("gpt-4o"), to: harness.gateway(key: key)) where !(event.content ?? "").isEmpty {
                chunks += 1
                if chunks == 2 { break }
            }
            let leftAt = ContinuousClock.now
            #expect(await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.last?.clientWentAwayAt != nil })
            if let wentAway = harness.upstream.records.last?.clientWentAwayAt {
                #expect(wentAway - leftAt < .milliseconds(500), "upstream closed \(wentAway - leftAt) after the client left")
            }
            let all = try await harness.waitForRecords(user: "kai", count: 6)
            #expect(all.last?.status == "client_cancelled")
            try await harness.stop()
        }

        @Test("an upstream error status before the first byte is answered with the same status and an OpenAI body",
              arguments: [(503, "server_error"), (429, "tokens"), (400, "invalid_request_error")])
        func upstreamStatusPassesThrough(status: Int, type: String) async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("kim")
            harness.upstream.setDefaultScenario(UpstreamScenario(fault: .status(status, message: "upstream says no", type: type, code: "some_code")))
            let (_, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            guard case .httpStatus(let code, let body?, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(code == status)
            #expect(body.message == "upstream says no")
            #expect(body.type == type)
            let records = try await harness.waitForRecords(user: "kim", count: 1)
            #expect(records.first?.status == "upstream_error")
            #expect(records.first?.costPicoUSD == 0)
            try await harness.stop()
        }

        @Test("the upstream's own 401 becomes 502, never the caller's invalid_api_key")
        func upstreamAuthFailureIs502() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("lea")
            harness.upstream.setDefaultScenario(UpstreamScenario(fault: .status(401, message: "bad key sk-upstream-secret", type: "invalid_request_error", code: "invalid_api_key")))
            let (_, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            guard case .httpStatus(502, let body?, let raw)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(body.code == "upstream_auth_failed")
            #expect(!raw.contains("sk-upstream-secret"))
            try await harness.stop()
        }

        @Test("a mid-stream failure sends an SSE error event after the delivered text, and records upstream_error",
              arguments: [UpstreamScenario.Fault.midStreamError(afterChunks: 3, message: "model crashed"),
                          .dropConnection(afterChunks: 3), .malformedLine(afterChunks: 3), .stall(afterChunks: 3)])
        func midStreamFaults(fault: UpstreamScenario.Fault) async throws {
            let harness = try await GatewayHarness.start { config in
                config.upstreams[0].timeouts = ChatTimeouts(connect: 2, firstByte: 2, idle: 0.5)
            }
            let key = try await harness.addUser("max")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["one ", "two ", "three ", "four ", "five "], fault: fault))
            let (events, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(events.compactMap(\.content).joined() == "one two three ")
            guard case .providerError(let body)? = error else { Issue.record("expected an error event, got \(String(describing: error))"); return }
            #expect(!body.message.isEmpty)
            let records = try await harness.waitForRecords(user: "max", count: 1)
            #expect(records.first?.status == "upstream_error")
            #expect(records.first?.completionTokens == Int64(try Encoding.named(.o200k_base).count("one two three ")))
            try await harness.stop()
        }
    }
}
