import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterTestSupport
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer

/// The fault matrix of docs/FAULTS.md, end to end through a real server and the test upstream: for each
/// fault, what the client sees, the one record it leaves, and that no reservation stays open. The faults
/// DisconnectAndFaultTests already covers (mid-stream error event, dropped connection, malformed line and
/// stall after three chunks; 503/429/400; the upstream's 401) are not repeated here.
extension ServerTests {
    @Suite("Fault matrix")
    struct FaultMatrixTests {
        static let encoding = { try! Encoding.named(.o200k_base) }()

        /// The HTTP error a streaming request got before any event, or a recorded issue.
        static func httpError(_ result: (events: [ChatEvent], error: ChatClientError?),
                              sourceLocation: SourceLocation = #_sourceLocation) -> (status: Int, body: ProviderError?, raw: String)? {
            #expect(result.events.isEmpty, "events before the error: \(result.events.count)", sourceLocation: sourceLocation)
            guard case .httpStatus(let status, let body, let raw)? = result.error else {
                Issue.record("expected an HTTP error status, got \(String(describing: result.error))", sourceLocation: sourceLocation)
                return nil
            }
            return (status, body, raw)
        }

        // MARK: - Upstream faults

        @Test("an upstream that refuses connections: 502 upstream_error, one upstream_error record billing nothing")
        func upstreamRefusesConnection() async throws {
            let dead = try await SimulatedUpstream.start()
            try await dead.shutdown()  // nothing listens on its port any more
            let harness = try await GatewayHarness.start(upstream: dead)
            let key = try await harness.addUser("ada")
            let result = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            let error = try #require(Self.httpError(result))
            #expect(error.status == 502)
            #expect(error.body?.code == "upstream_error")
            #expect(error.body?.type == "server_error")
            let records = try await harness.waitForRecords(user: "ada", count: 1)
            #expect(records.map(\.status) == ["upstream_error"])
            #expect(records.first?.billedTokens == 0)
            #expect(records.first?.costPicoUSD == 0)
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        /// A fault that hits before the upstream's first event, and what the client must get for it.
        struct EarlyFault: Sendable, CustomTestStringConvertible {
            var fault: UpstreamScenario.Fault
            var status: Int
            var code: String?
            var testDescription: String { "\(fault) → \(status) \(code ?? "-")" }
        }

        @Test("a fault before the upstream's first event becomes an HTTP error with an OpenAI body; nothing is billed",
              arguments: [
                  EarlyFault(fault: .resetConnection(afterChunks: 0), status: 502, code: "upstream_error"),
                  EarlyFault(fault: .dropConnection(afterChunks: 0), status: 502, code: "upstream_error"),
                  EarlyFault(fault: .stall(afterChunks: 0), status: 504, code: "upstream_timeout"),
                  EarlyFault(fault: .malformedLine(afterChunks: 0), status: 502, code: "upstream_error"),
                  EarlyFault(fault: .midStreamError(afterChunks: 0, message: "model overloaded"), status: 502, code: nil),
                  EarlyFault(fault: .status(500, message: "boom", type: "server_error"), status: 500, code: nil),
                  EarlyFault(fault: .status(502, message: "bad gateway upstream", type: "server_error"), status: 502, code: nil),
                  EarlyFault(fault: .status(429, message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded"),
                             status: 429, code: "rate_limit_exceeded"),
              ])
        func faultBeforeFirstEvent(_ early: EarlyFault) async throws {
            let harness = try await GatewayHarness.start { config in
                config.upstreams[0].timeouts = ChatTimeouts(connect: 2, firstByte: 0.5, idle: 0.5)
            }
            let key = try await harness.addUser("bea")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["never ", "sent"], fault: early.fault))
            let result = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            let error = try #require(Self.httpError(result))
            #expect(error.status == early.status, "\(error.raw)")
            #expect(error.body?.code == early.code, "\(error.raw)")
            #expect(error.body?.message.isEmpty == false)
            if case .midStreamError(_, let message) = early.fault { #expect(error.body?.message == message) }
            if case .status(_, let message, let type, _) = early.fault {
                #expect(error.body?.message == message)
                #expect(error.body?.type == type)
            }
            #expect(!error.raw.contains("sk-upstream-secret"))
            let records = try await harness.waitForRecords(user: "bea", count: 1)
            #expect(records.map(\.status) == ["upstream_error"])
            #expect(records.first?.billedTokens == 0)
            #expect(records.first?.costPicoUSD == 0)
            #expect(harness.upstream.records.count == 1, "the gateway does not retry on its own")
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("an upstream that resets the connection (RST) mid-stream: the delivered text, an SSE error event, billed as delivered")
        func upstreamResetsMidStream() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("cal")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["alpha ", "beta ", "gamma ", "delta "],
                                                                 fault: .resetConnection(afterChunks: 2)))
            let (events, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(events.compactMap(\.content).joined() == "alpha beta ")
            guard case .providerError(let body)? = error else {
                Issue.record("expected the gateway's SSE error event, got \(String(describing: error))"); return
            }
            #expect(body.code == "upstream_error")
            let records = try await harness.waitForRecords(user: "cal", count: 1)
            #expect(records.map(\.status) == ["upstream_error"])
            #expect(records.first?.completionTokens == Int64(Self.encoding.count("alpha beta ")))
            #expect(records.first?.costPicoUSD ?? 0 > 0)
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("an upstream slow to send its headers, within the first-byte deadline: the stream completes")
        func slowHeadersWithinDeadline() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("dot")
            let scenario = UpstreamScenario(chunks: ["slow ", "but ", "fine"], headerDelay: .milliseconds(700))
            harness.upstream.setDefaultScenario(scenario)
            let started = ContinuousClock.now
            let (events, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(error == nil)
            #expect(ContinuousClock.now - started >= .milliseconds(700))
            #expect(events.compactMap(\.content).joined() == scenario.text)
            let records = try await harness.waitForRecords(user: "dot", count: 1)
            #expect(records.map(\.status) == ["completed"])
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("an upstream slower than the first-byte deadline: 504 upstream_timeout, the upstream connection closed")
        func slowHeadersPastDeadline() async throws {
            let harness = try await GatewayHarness.start { config in
                config.upstreams[0].timeouts = ChatTimeouts(connect: 2, firstByte: 0.4, idle: 2)
            }
            let key = try await harness.addUser("eli")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["late"], headerDelay: .seconds(3)))
            let result = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            let error = try #require(Self.httpError(result))
            #expect(error.status == 504)
            #expect(error.body?.code == "upstream_timeout")
            #expect(await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil })
            let records = try await harness.waitForRecords(user: "eli", count: 1)
            #expect(records.map(\.status) == ["upstream_error"])
            #expect(records.first?.costPicoUSD == 0)
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        // MARK: - Client disconnects

        enum Silence: String, Sendable, CaseIterable {
            /// The upstream has not even sent its response head.
            case slowHeaders
            /// The upstream sent 200 and its head, then nothing.
            case silentAfterHeaders
        }

        @Test("a client that leaves before the upstream's first event closes the upstream within 50 ms",
              arguments: Silence.allCases)
        func disconnectBeforeFirstEvent(_ silence: Silence) async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("fox")
            harness.upstream.setDefaultScenario(silence == .slowHeaders
                ? UpstreamScenario(chunks: ["too late"], headerDelay: .seconds(4))
                : UpstreamScenario(chunks: ["too late"], fault: .stall(afterChunks: 0)))
            let stream = harness.client.stream(chat(), to: harness.gateway(key: key))
            let reader = Task { await collect(stream) }
            #expect(await harness.upstream.waitUntil(timeout: .seconds(3)) { $0.count == 1 })
            try await Task.sleep(for: .milliseconds(150))  // the gateway now waits for the first event
            let leftAt = ContinuousClock.now
            stream.cancel()  // the client closes its connection
            let closed = await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil }
            #expect(closed, "the upstream request was not cancelled")
            if let wentAway = harness.upstream.records.first?.clientWentAwayAt {
                #expect(wentAway - leftAt < .milliseconds(50), "upstream closed \(wentAway - leftAt) after the client left")
            }
            let (events, _) = await reader.value
            #expect(events.isEmpty)
            let records = try await harness.waitForRecords(user: "fox", count: 1)
            #expect(records.map(\.status) == ["client_cancelled"])
            // The upstream received the prompt and charges for it: the prompt is billed, no completion.
            #expect(records.first?.completionTokens == 0)
            #expect((records.first?.promptTokens ?? 0) > 0)
            #expect(records.first?.billedTokens == records.first?.promptTokens)
            #expect((records.first?.costPicoUSD ?? 0) > 0)
            #expect(harness.upstream.records.first?.chunksWritten == 0)
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("clients leaving at random points of their streams: each leaves one client_cancelled record of what was written")
        func disconnectAtRandomPoints() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("gil")
            let scenario = UpstreamScenario.counting(80, interval: .milliseconds(10))
            harness.upstream.setDefaultScenario(scenario)
            let seed = UInt64(ContinuousClock.now.hashValue.magnitude)
            var random = SeededGenerator(seed: seed)
            let rounds = 8
            for round in 0..<rounds {
                let byChunks = round % 2 == 0
                let leaveAfterChunks = Int.random(in: 1...60, using: &random)
                let leaveAfter = Duration.milliseconds(Int.random(in: 0...500, using: &random))
                let point = byChunks ? "after \(leaveAfterChunks) chunks" : "after \(leaveAfter)"
                let stream = harness.client.stream(chat(), to: harness.gateway(key: key))
                let reader = Task { () -> String in
                    var text = ""
                    var chunks = 0
                    do {
                        for try await event in stream {
                            if let c = event.content, !c.isEmpty { text += c; chunks += 1 }
                            if byChunks && chunks == leaveAfterChunks { break }
                        }
                    } catch {}
                    return text
                }
                if !byChunks {
                    // Counted from the moment the upstream has the request (so it was admitted and reserved).
                    #expect(await harness.upstream.waitUntil(timeout: .seconds(3)) { $0.count == round + 1 })
                    try await Task.sleep(for: leaveAfter)
                    stream.cancel()
                }
                let received = await reader.value
                let records = try await harness.waitForRecords(user: "gil", count: round + 1)
                let record = try #require(records.count == round + 1 ? records.last : nil, "seed \(seed), round \(round) \(point)")
                let upstream = try #require(harness.upstream.records.last)
                // What the gateway may have written: every chunk the upstream sent before it saw the close.
                let sent = scenario.chunks.prefix(upstream.chunksWritten).joined()
                if received == scenario.text {
                    #expect(record.status == "completed", "seed \(seed), round \(round) \(point)")
                } else {
                    #expect(record.status == "client_cancelled", "seed \(seed), round \(round) \(point)")
                    #expect(await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.last?.clientWentAwayAt != nil },
                            "seed \(seed), round \(round) \(point): the upstream was not closed")
                }
                #expect(record.completionTokens >= Int64(Self.encoding.count(received)), "seed \(seed), round \(round) \(point)")
                #expect(record.completionTokens <= Int64(Self.encoding.count(sent)), "seed \(seed), round \(round) \(point)")
                #expect(scenario.text.hasPrefix(received))
            }
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("a stream: false client that leaves mid-answer cancels the upstream and leaves one client_cancelled record")
        func nonStreamingClientLeaves() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("hoa")
            harness.upstream.setDefaultScenario(UpstreamScenario.counting(200, interval: .milliseconds(10)))
            let client = harness.client
            let gateway = harness.gateway(key: key)
            let request = Task { try await client.complete(chat(), to: gateway) }
            #expect(await harness.upstream.waitUntil(timeout: .seconds(3)) { ($0.first?.chunksWritten ?? 0) >= 5 })
            request.cancel()
            _ = await request.result
            #expect(await harness.upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil })
            #expect((harness.upstream.records.first?.chunksWritten ?? 200) < 200)
            let records = try await harness.waitForRecords(user: "hoa", count: 1)
            #expect(records.map(\.status) == ["client_cancelled"])
            try await harness.expectBooksClosed()
            try await harness.stop()
        }
    }
}
