import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream

extension ServerTests {
    /// Header timeout, idle timeout and the connection cap, seen from raw sockets (timeouts shortened to
    /// fractions of a second; the margins allow for a loaded 2-core machine).
    @Suite("Slow, idle and surplus connections")
    struct ConnectionLimitsTests {
        @Test("a half-sent request head trickled in byte by byte is closed at the header timeout, counted from its first byte")
        func halfSentHeadIsClosedAtTheHeaderTimeout() async throws {
            let harness = try await GatewayHarness.start {
                $0.requestHeadTimeout = .milliseconds(500)
                $0.idleTimeout = .seconds(30)
            }
            // Quiet before its first byte for longer than the header timeout: that is idle time, not a slow head.
            let patient = try RawConnection(port: harness.port)
            try await Task.sleep(for: .seconds(1))
            try patient.send(healthRequest)
            let answer = try await patient.readResponse(timeout: .seconds(5))
            #expect(answer?.hasPrefix("HTTP/1.1 200") == true, "\(answer ?? "no answer")")

            let slow = try RawConnection(port: harness.port)
            let firstByte = ContinuousClock.now
            try slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            var closed = false
            // One more header byte every 100 ms: the connection is never idle, its head is never complete.
            for _ in 0..<50 where !closed {
                switch try await slow.receive(timeout: .milliseconds(100)) {
                case .closed: closed = true
                case .bytes(let bytes): Issue.record("unexpected answer: \(String(decoding: bytes, as: UTF8.self))")
                case .nothing: closed = (try? slow.send("x")) == nil
                }
            }
            let elapsed = ContinuousClock.now - firstByte
            #expect(closed, "still open after 5 s")
            #expect(elapsed >= .milliseconds(450), "closed after \(elapsed), before the header timeout")
            #expect(elapsed < .seconds(3), "closed after \(elapsed)")
            try await harness.stop()
        }

        @Test("a keep-alive connection with no next request is closed after the idle timeout, not before")
        func idleKeepAliveConnectionIsClosed() async throws {
            let harness = try await GatewayHarness.start {
                $0.requestHeadTimeout = .seconds(30)
                $0.idleTimeout = .milliseconds(600)
            }
            let connection = try RawConnection(port: harness.port)
            try connection.send(healthRequest)
            let first = try await connection.readResponse(timeout: .seconds(5))
            #expect(first?.hasPrefix("HTTP/1.1 200") == true, "\(first ?? "no answer")")
            // A second request inside the idle timeout is served on the same connection.
            try await Task.sleep(for: .milliseconds(300))
            try connection.send(healthRequest)
            let second = try await connection.readResponse(timeout: .seconds(5))
            #expect(second?.hasPrefix("HTTP/1.1 200") == true, "\(second ?? "no answer")")
            let answered = ContinuousClock.now
            #expect(try await connection.waitForClose(timeout: .seconds(5)))
            let elapsed = ContinuousClock.now - answered
            #expect(elapsed >= .milliseconds(500), "closed \(elapsed) after the response, before the idle timeout")
            #expect(elapsed < .seconds(3), "closed \(elapsed) after the response")
            try await harness.stop()
        }

        @Test("with max_connections 2, a third connection is not served while both others are open, and is once one closes")
        func connectionBeyondTheMaximumWaits() async throws {
            let harness = try await GatewayHarness.start { $0.maxConnections = 2 }
            let first = try RawConnection(port: harness.port), second = try RawConnection(port: harness.port)
            for connection in [first, second] {
                try connection.send(healthRequest)
                let answer = try await connection.readResponse(timeout: .seconds(5))
                #expect(answer?.hasPrefix("HTTP/1.1 200") == true, "\(answer ?? "no answer")")
            }
            let third = try RawConnection(port: harness.port)
            try third.send(healthRequest)
            #expect(try await third.receive(timeout: .seconds(1)) == .nothing, "served beyond the maximum")
            // Both others still work meanwhile.
            try second.send(healthRequest)
            #expect(try await second.readResponse(timeout: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            first.close()
            let late = try await third.readResponse(timeout: .seconds(5))
            #expect(late?.hasPrefix("HTTP/1.1 200") == true, "\(late ?? "no answer once a connection closed")")
            try await harness.stop()
        }

        @Test("a stream slower than the idle and header timeouts, with a slow first byte, is delivered whole")
        func slowStreamIsNotCut() async throws {
            let harness = try await GatewayHarness.start {
                $0.requestHeadTimeout = .milliseconds(300)
                $0.idleTimeout = .milliseconds(300)
            }
            let key = try await harness.addUser("sloan")
            // 0.8 s before the upstream answers, then a chunk every 0.5 s: each gap is longer than both timeouts.
            let scenario = UpstreamScenario(chunks: ["one", " two", " three", " four", " five", " six"],
                                        interval: .milliseconds(500), headerDelay: .milliseconds(800))
            harness.upstream.setDefaultScenario(scenario)
            let (events, error) = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(error == nil)
            #expect(events.compactMap(\.content).joined() == scenario.text)
            let records = try await harness.waitForRecords(user: "sloan", count: 1)
            #expect(records.map(\.status) == ["completed"])
            try await harness.stop()
        }
    }
}
