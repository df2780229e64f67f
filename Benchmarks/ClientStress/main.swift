// Full-size measurements of the streaming client's bars against the in-process test upstream.
// Prints a Markdown report. Run through Benchmarks/run-client-benchmarks.sh (release build).
import Foundation
import Synchronization
import TokenMeterClient
import TokenMeterSimulatedUpstream

func count(_ directory: String) -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).count }
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}
func mib(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1_048_576) }
func ms(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.2f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
}
func request(_ model: String) -> ChatRequest { ChatRequest(model: model, messages: [ChatMessage(role: "user", content: "Hi")]) }

final class Peak: Sendable {
    private let state = Mutex(0)
    func record(_ value: Int) { state.withLock { $0 = max($0, value) } }
    var value: Int { state.withLock { $0 } }
}

let arguments = CommandLine.arguments
let slowChunks = arguments.count > 1 ? Int(arguments[1]) ?? 10_000 : 10_000
let timeouts = ChatTimeouts(connect: 5, firstByte: 10, idle: 10)
let upstream = try await SimulatedUpstream.start()
var client = try ChatClient(configuration: .init(timeouts: timeouts))
let target = Upstream(baseURL: upstream.openAIBaseURL)

print("# Streaming client (issue 4): measurements\n")
print("Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.operatingSystemVersionString). libcurl multi, one loop thread; test upstream on 127.0.0.1 (SwiftNIO, one thread) in the same process.\n")

// 1. Slow consumer: 10 ms per event over a 10,000-chunk stream.
do {
    let piece = String(repeating: "y", count: 200)
    upstream.setScenario(UpstreamScenario(chunks: Array(repeating: piece, count: slowChunks)), forModel: "slow")
    _ = try await { for try await _ in client.stream(request("warm"), to: target) {} }()
    let before = residentBytes()
    let peakRSS = Peak()
    let sampler = Task { while !Task.isCancelled { peakRSS.record(residentBytes()); try? await Task.sleep(for: .milliseconds(50)) } }
    let started = ContinuousClock.now
    let stream = client.stream(request("slow"), to: target)
    var events = 0
    for try await _ in stream {
        events += 1
        try await Task.sleep(for: .milliseconds(10))
    }
    let elapsed = ContinuousClock.now - started
    sampler.cancel()
    _ = await sampler.value
    let record = upstream.records.last!
    let lastWrite = record.chunkWriteTimes.last! - record.receivedAt
    print("## Slow consumer (bar: RSS grows < 10 MB)\n")
    print("| chunks | consumer | events | wall time | RSS before | peak RSS | growth | peak buffered | upstream's last write after |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("| \(slowChunks) × ~330 B SSE | sleeps 10 ms per event | \(events) | \(ms(elapsed)) | \(mib(before)) | \(mib(peakRSS.value)) | \(mib(peakRSS.value - before)) | \(stream.peakBufferedBytes) B (limit 65536) | \(ms(lastWrite)) |\n")
}

// 2. Cancel after 10 chunks, repeated.
do {
    upstream.setScenario(.counting(1000, interval: .milliseconds(10)), forModel: "cancel")
    var latencies: [Duration] = []
    var extraChunks: [Int] = []
    for _ in 0..<100 {
        let first = upstream.records.count
        let stream = client.stream(request("cancel"), to: target)
        let consumer = Task {
            var seen = 0
            for try await _ in stream {
                seen += 1
                if seen == 10 { break }
            }
        }
        try await consumer.value  // leaving the loop drops the iterator: the stream is cancelled
        let cancelledAt = ContinuousClock.now
        _ = await upstream.waitUntil(timeout: .seconds(2)) { $0.count > first && $0[first].clientWentAwayAt != nil }
        let record = upstream.records[first]
        latencies.append(record.clientWentAwayAt! - cancelledAt)
        extraChunks.append(record.chunksWritten(after: cancelledAt))
    }
    latencies.sort()
    print("## Cancel after 10 chunks (bar: close seen within 50 ms, at most 1 more chunk)\n")
    print("| runs | close latency p50 | p99 | max | chunks written after cancel (max) |")
    print("|---|---|---|---|---|")
    print("| 100 | \(ms(latencies[50])) | \(ms(latencies[98])) | \(ms(latencies[99])) | \(extraChunks.max()!) |\n")
}

func threadNames() -> String {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
    return names.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.sorted().joined(separator: ", ")
}

// 3. 200 concurrent streams.
do {
    client.shutdown()
    client = try ChatClient(configuration: .init(timeouts: timeouts))
    upstream.setScenario(.counting(50, interval: .milliseconds(10)), forModel: "many")
    let threadsBefore = count("/proc/self/task")
    let peak = Peak()
    let sampler = Task { while !Task.isCancelled { peak.record(count("/proc/self/task")); try? await Task.sleep(for: .milliseconds(5)) } }
    let started = ContinuousClock.now
    let concurrentClient = client
    let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
        for _ in 0..<200 {
            group.addTask {
                var text = ""
                for try await event in concurrentClient.stream(request("many"), to: target) { text += event.content ?? "" }
                return text == (0..<50).map { "t\($0) " }.joined()
            }
        }
        var correct = 0
        for try await good in group where good { correct += 1 }
        return correct
    }
    let elapsed = ContinuousClock.now - started
    sampler.cancel()
    _ = await sampler.value
    print("## 200 concurrent streams (bar: complete correctly on a small fixed number of threads)\n")
    print("| streams × chunks | correct | wall time | threads before | peak threads during |")
    print("|---|---|---|---|---|")
    print("| 200 × 50 (10 ms apart) | \(ok) | \(ms(elapsed)) | \(threadsBefore) | \(peak.value) |\n")
}

// 4. 1,000 sequential streams.
do {
    client.shutdown()
    client = try ChatClient(configuration: .init(timeouts: timeouts))
    upstream.setScenario(.counting(3), forModel: "seq")
    for try await _ in client.stream(request("seq"), to: target) {}
    let namesBefore = threadNames()
    let fds = count("/proc/self/fd")
    let threads = count("/proc/self/task")
    let connectionsBefore = upstream.connectionsAccepted
    let started = ContinuousClock.now
    for _ in 0..<1000 { for try await _ in client.stream(request("seq"), to: target) {} }
    let elapsed = ContinuousClock.now - started
    print("## 1,000 sequential streams (bar: FDs and threads where they started)\n")
    print("| streams | wall time | FDs before → after | threads before → after | new upstream connections |")
    print("|---|---|---|---|---|")
    let connections = upstream.connectionsAccepted - connectionsBefore
    print("| 1000 | \(ms(elapsed)) | \(fds) → \(count("/proc/self/fd")) | \(threads) → \(count("/proc/self/task")) | \(connections) |\n")
    print("Threads before: \(namesBefore)  ")
    print("Threads after: \(threadNames())\n")
}

client.shutdown()
try await upstream.shutdown()
