import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream

extension NetworkTests {
    @Suite struct Cancellation {
        /// Cancel after 10 chunks → the upstream sees the close and writes at most one more chunk. The
        /// 50 ms bar is measured by Benchmarks/run-client-benchmarks.sh (BENCHMARKS.md: 0.11 ms
        /// median); here a generous bound keeps the test about behaviour, not a loaded machine's timing.
        @Test(arguments: [Upstream.Provider.openAICompatible, .ollama])
        func cancellingTheTaskAfterTenChunksClosesTheConnection(provider: Upstream.Provider) async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(.counting(1000, interval: .milliseconds(10)), forModel: "m")
                let target = provider == .ollama ? ollama(upstream) : openAI(upstream)
                let stream = client.stream(request(model: "m"), to: target)
                let tenth = AsyncStream.makeStream(of: Void.self)
                let consumer = Task {
                    var seen = 0
                    for try await _ in stream {
                        seen += 1
                        if seen == 10 { tenth.continuation.yield() }
                    }
                    return seen
                }
                for await _ in tenth.stream { break }
                let cancelledAt = ContinuousClock.now
                consumer.cancel()
                let result = await consumer.result
                #expect(throws: ChatClientError.cancelled) { try result.get() }

                let closed = await upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil }
                #expect(closed)
                let record = try #require(upstream.records.first)
                let wentAway = try #require(record.clientWentAwayAt)
                if sanitizer == nil {
                    #expect(wentAway - cancelledAt < .milliseconds(500), "close seen \(wentAway - cancelledAt) after cancel")
                    // One chunk may be in flight at the cancel; more only as far as the close took longer
                    // than the chunk interval (a loaded machine). None after the upstream saw the close.
                    #expect(record.chunksWritten(after: cancelledAt) <= 1 + chunksIn(wentAway - cancelledAt, every: .milliseconds(10)))
                }
                #expect(record.chunksWrittenAfterClientWentAway == 0)
                #expect(!record.completed)
            }
        }

        @Test func droppingTheIteratorClosesTheConnection() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(.counting(1000, interval: .milliseconds(10)), forModel: "m")
                var droppedAt = ContinuousClock.now
                do {
                    var iterator = client.stream(request(model: "m"), to: openAI(upstream)).makeAsyncIterator()
                    for _ in 0..<10 { _ = try await iterator.next() }
                    droppedAt = .now
                }
                let closed = await upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil }
                #expect(closed)
                let record = try #require(upstream.records.first)
                let wentAway = try #require(record.clientWentAwayAt)
                #expect(wentAway - droppedAt < .milliseconds(500))
                #expect(record.chunksWritten(after: droppedAt) <= 1 + chunksIn(wentAway - droppedAt, every: .milliseconds(10)))
                #expect(record.chunksWrittenAfterClientWentAway == 0)
            }
        }

        @Test func breakingOutOfTheLoopClosesTheConnectionAndTheNextRequestUsesAFreshOne() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(.counting(1000, interval: .milliseconds(5)), forModel: "long")
                upstream.setScenario(.counting(3), forModel: "short")
                for try await event in client.stream(request(model: "long"), to: openAI(upstream)) where event.content == "t4 " {
                    break
                }
                let closed = await upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil }
                #expect(closed)
                let (events, error) = await collect(client.stream(request(model: "short"), to: openAI(upstream)))
                #expect(error == nil)
                #expect(events.compactMap(\.content).joined() == "t0 t1 t2 ")
                let records = upstream.records
                #expect(records.count == 2)
                #expect(records[0].connectionID != records[1].connectionID)
            }
        }

        @Test func completedStreamsReuseOneConnection() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(.counting(5), forModel: "m")
                for _ in 0..<5 {
                    let (_, error) = await collect(client.stream(request(model: "m"), to: openAI(upstream)))
                    #expect(error == nil)
                }
                #expect(Set(upstream.records.map(\.connectionID)).count == 1)
                #expect(upstream.connectionsAccepted == 1)
            }
        }

        @Test func cancellingBeforeTheFirstEventEndsWithCancelled() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(headerDelay: .seconds(3)), forModel: "m")
                let stream = client.stream(request(model: "m"), to: openAI(upstream))
                let consumer = Task { await collect(stream) }
                try await Task.sleep(for: .milliseconds(50))
                consumer.cancel()
                let (events, error) = await consumer.value
                #expect(events.isEmpty)
                #expect(error == .cancelled)
            }
        }
    }
}

extension NetworkTests {
    /// A request whose body's last byte waits for `releaseLastByte()` (the gateway sends it while it reserves).
    @Suite struct HeldLastByte {
        /// 300 KB, more than one of libcurl's upload buffers, so the body goes through the read callback in parts.
        static let longText = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 6_700)

        @Test func theUpstreamGetsTheRequestOnlyOnceReleasedAndThenWhole() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(chunks: ["a", "b"]), forModel: "m")
                let stream = client.stream(request(model: "m", Self.longText), to: openAI(upstream), holdingLastByte: true)
                #expect(await waitFor { upstream.connectionsAccepted == 1 })
                try await Task.sleep(for: .milliseconds(200))
                #expect(upstream.records.isEmpty, "the upstream saw a whole request before the release")
                stream.releaseLastByte()
                let (events, error) = await collect(stream)
                #expect(error == nil)
                #expect(events.compactMap(\.content).joined() == "ab")
                let record = try #require(upstream.records.first)
                let sent = try JSONSerialization.jsonObject(with: record.body) as? [String: Any]
                let messages = sent?["messages"] as? [[String: Any]]
                #expect(messages?.first?["content"] as? String == Self.longText)
                #expect(upstream.records.count == 1)
            }
        }

        @Test func cancelledBeforeTheReleaseTheUpstreamNeverGetsAWholeRequest() async throws {
            try await withUpstream { upstream, client in
                upstream.setScenario(UpstreamScenario(chunks: ["a"]), forModel: "m")
                let stream = client.stream(request(model: "m", Self.longText), to: openAI(upstream), holdingLastByte: true)
                #expect(await waitFor { upstream.connectionsAccepted == 1 })
                stream.cancel()
                let (events, error) = await collect(stream)
                #expect(events.isEmpty)
                #expect(error == .cancelled)
                // A release after the cancel is a no-op.
                stream.releaseLastByte()
                try await Task.sleep(for: .milliseconds(300))
                #expect(upstream.records.isEmpty)
                // The client's next request, not held, goes through on a fresh connection.
                let (next, nextError) = await collect(client.stream(request(model: "m"), to: openAI(upstream)))
                #expect(nextError == nil)
                #expect(next.compactMap(\.content).joined() == "a")
                #expect(upstream.records.count == 1)
                #expect(upstream.connectionsAccepted == 2)
            }
        }
    }
}

/// Polls `condition` every 10 ms for up to 5 s.
private func waitFor(_ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}

/// How many chunks an upstream writing one every `interval` can write in `elapsed` (rounded up).
private func chunksIn(_ elapsed: Duration, every interval: Duration) -> Int {
    elapsed <= .zero ? 0 : Int((elapsed / interval).rounded(.up))
}
