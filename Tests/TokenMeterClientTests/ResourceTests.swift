import Synchronization
import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream
import TokenMeterTestSupport

extension NetworkTests {
    @Suite struct Resources {
        /// Bar: a slow consumer keeps memory bounded. The upstream sends 2,000 chunks of ~1 KiB as
        /// fast as it can; the consumer sleeps 1 ms per event (the full-size 10 ms × 10,000 run lives
        /// in Benchmarks/). The buffer must stay near its 64 KiB limit and RSS must not grow by
        /// the ~2 MiB+ that unbounded buffering of decoded events would take.
        @Test func slowConsumerPausesTheTransferInsteadOfBuffering() async throws {
            try await withUpstream(bufferLimitBytes: 64 << 10) { upstream, client in
                let piece = String(repeating: "x", count: 1000)
                upstream.setScenario(UpstreamScenario(chunks: Array(repeating: piece, count: 2000)), forModel: "big")
                let rssBefore = residentBytes()
                let stream = client.stream(request(model: "big"), to: openAI(upstream))
                var received = 0
                var maxBuffered = 0
                for try await event in stream {
                    if event.content != nil { received += 1 }
                    maxBuffered = max(maxBuffered, stream.bufferedBytes)
                    try await Task.sleep(for: .milliseconds(1))
                }
                let rssGrowth = residentBytes() - rssBefore
                #expect(received == 2000)
                #expect(stream.peakBufferedBytes >= 64 << 10, "the buffer filled, so the transfer was paused")
                // limit + one curl write (at most 16 KiB of chunks decoded at once) + one event.
                #expect(stream.peakBufferedBytes <= (64 << 10) + (16 << 10) + 2048, "peak \(stream.peakBufferedBytes)")
                #expect(maxBuffered <= (64 << 10) + (16 << 10) + 2048)
                if sanitizer == nil { #expect(rssGrowth < 10 << 20, "RSS grew by \(rssGrowth) bytes") }
            }
        }

        /// Bar: 200 concurrent streams through one client complete, using a small fixed number of
        /// threads (one curl loop thread, whatever the stream count).
        @Test func twoHundredConcurrentStreamsCompleteOnAFixedNumberOfThreads() async throws {
            // Counts process-wide threads/FDs: no other suite may open sockets meanwhile.
            try await ProcessResourceGate.shared.exclusive { try await withUpstream { upstream, client in
                upstream.setScenario(.counting(20, interval: .milliseconds(5)), forModel: "m")
                let threadsBefore = threadCount()
                let peakThreads = Peak()
                let sampler = Task {
                    while !Task.isCancelled {
                        peakThreads.record(threadCount())
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
                let texts = try await concurrentStreamTexts(200, model: "m", client: client, upstream: upstream)
                sampler.cancel()
                _ = await sampler.value
                let expected = (0..<20).map { "t\($0) " }.joined()
                #expect(texts.count == 200)
                #expect(texts.allSatisfy { $0 == expected })
                #expect(upstream.records.count == 200)
                // The client adds no thread per stream: at most a couple of transient ones
                // (Swift's cooperative pool may grow to the core count).
                #expect(peakThreads.value - threadsBefore <= 4, "threads before \(threadsBefore), peak \(peakThreads.value)")
            } }
        }

        /// `eventLoopThreads: 3` starts three curl loop threads, concurrent streams spread over them all
        /// complete intact, and shutdown stops all three.
        @Test func severalEventLoopThreadsServeConcurrentStreamsAndStopOnShutdown() async throws {
            // Counts process-wide threads: no other suite may start a client meanwhile.
            try await ProcessResourceGate.shared.exclusive {
                let loopsBefore = threadCount(named: "tm-curl-loop")
                try await withUpstream(eventLoopThreads: 3) { upstream, client in
                    // Each thread names itself once running: wait for that, up to two seconds.
                    for _ in 0..<200 where threadCount(named: "tm-curl-loop") - loopsBefore < 3 { try await Task.sleep(for: .milliseconds(10)) }
                    #expect(threadCount(named: "tm-curl-loop") - loopsBefore == 3)
                    upstream.setScenario(.counting(10, interval: .milliseconds(5)), forModel: "m")
                    let texts = try await concurrentStreamTexts(30, model: "m", client: client, upstream: upstream)
                    #expect(texts.count == 30)
                    #expect(texts.allSatisfy { $0 == (0..<10).map { "t\($0) " }.joined() })
                    #expect(upstream.records.count == 30)
                }
                #expect(threadCount(named: "tm-curl-loop") == loopsBefore, "shutdown joined every loop thread")
            }
        }

        /// Bar: 1,000 sequential streams leave open file descriptors and threads where they started.
        @Test func thousandSequentialStreamsLeaveFileDescriptorsAndThreadsWhereTheyStarted() async throws {
            // Counts process-wide threads/FDs: no other suite may open sockets meanwhile.
            try await ProcessResourceGate.shared.exclusive { try await withUpstream { upstream, client in
                upstream.setScenario(.counting(3), forModel: "m")
                upstream.setScenario(.counting(100, interval: .milliseconds(2)), forModel: "cancel")
                // Warm up: the first stream opens the pooled connection.
                _ = await collect(client.stream(request(model: "m"), to: openAI(upstream)))
                let fdsBefore = openFileDescriptorCount()
                let threadsBefore = threadCount()
                for index in 0..<1000 {
                    if index % 10 == 4 {
                        // Every tenth stream is abandoned midway, which must close its connection.
                        for try await _ in client.stream(request(model: "cancel"), to: openAI(upstream)) { break }
                    } else {
                        let (events, error) = await collect(client.stream(request(model: "m"), to: openAI(upstream)))
                        #expect(error == nil)
                        #expect(events.count == 5)
                    }
                }
                // Let the last abandoned connection finish closing on the upstream side.
                _ = await upstream.waitUntil(timeout: .seconds(2)) { records in
                    records.filter { $0.model == "cancel" }.allSatisfy { $0.clientWentAwayAt != nil }
                }
                // The loop ends on a completed stream, so the pool again holds one connection, as at
                // the baseline: the FD count must match exactly.
                #expect(openFileDescriptorCount() == fdsBefore)
                // Swift's cooperative pool starts and retires worker threads on its own, so the
                // count can dip; what must not happen is growth.
                #expect(threadCount() <= threadsBefore, "threads before \(threadsBefore), after \(threadCount())")
                #expect(upstream.records.count == 1001)
            } }
        }
    }
}

/// A thread-safe running maximum.
final class Peak: Sendable {
    private let state = Mutex(0)
    func record(_ value: Int) { state.withLock { $0 = max($0, value) } }
    var value: Int { state.withLock { $0 } }
}
