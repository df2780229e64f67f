import Foundation
import Logging
import ServiceLifecycle
import TokenMeterClient
import TokenMeterLedger
import TokenMeterServer
import TokenMeterSimulatedUpstream

/// Measures the time to first token that the gateway adds over calling the upstream directly, at 1 and at 50
/// concurrent streams, in one run on one machine: the same client, the same test upstream, the same request;
/// TTFT is from `stream()` to the first event with content. Prints medians and p90s in milliseconds.
///
/// Usage: tokenmeter-server-bench [rounds]   (run a release build: swift run -c release tokenmeter-server-bench)
@main
struct ServerTTFT {
    static func main() async throws {
        let rounds = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 200
        let upstream = try await SimulatedUpstream.start(defaultScenario: UpstreamScenario(chunks: ["Hello", " world"]))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tm-bench-\(UUID().uuidString).sqlite").path
        var configuration = ServerConfiguration(upstreams: [
            UpstreamConfiguration(name: "test", baseURL: upstream.openAIBaseURL, provider: .openAICompatible, apiKey: "sk-test"),
        ])
        configuration.port = 0
        configuration.databasePath = path
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try await buildApplication(configuration, logger: logger) { continuation.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let running = Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        let port = await it.next()!

        var adminConfiguration = SQLiteUsageStore.Configuration()
        adminConfiguration.role = .administration
        let admin = try SQLiteUsageStore(path: path, configuration: adminConfiguration)
        let user = try await admin.addUser(name: "bench", budget: .unlimited)
        let key = try await admin.createAPIKey(userID: user.id).key

        let client = try ChatClient()
        let direct = Upstream(baseURL: upstream.openAIBaseURL, provider: .openAICompatible, apiKey: "sk-test")
        let gateway = Upstream(baseURL: "http://127.0.0.1:\(port)/v1", provider: .openAICompatible, apiKey: key)
        let request = ChatRequest(model: "gpt-4o-mini", messages: [ChatMessage(role: "user", content: "Say hello")])

        @Sendable func ttft(_ target: Upstream) async -> Double {
            let start = ContinuousClock.now
            var first: Duration?
            do {
                for try await event in client.stream(request, to: target) where first == nil && !(event.content ?? "").isEmpty {
                    first = .now - start
                }
            } catch { return .nan }
            guard let first else { return .nan }
            return Double(first.components.attoseconds) / 1e15 + Double(first.components.seconds) * 1000
        }

        func measure(concurrency: Int, target: Upstream) async -> [Double] {
            var samples: [Double] = []
            for _ in 0..<max(1, rounds / concurrency) {
                let batch = await withTaskGroup(of: Double.self) { group in
                    for _ in 0..<concurrency { group.addTask { await ttft(target) } }
                    var all: [Double] = []
                    for await sample in group { all.append(sample) }
                    return all
                }
                samples += batch.filter { !$0.isNaN }
            }
            return samples.sorted()
        }

        func percentile(_ s: [Double], _ p: Double) -> Double { s.isEmpty ? .nan : s[min(s.count - 1, Int(Double(s.count) * p))] }

        _ = await measure(concurrency: 1, target: gateway)  // warm up: vocabulary, connections
        _ = await measure(concurrency: 1, target: direct)
        print("concurrency | direct median ms | gateway median ms | added median ms | direct p90 | gateway p90 | samples")
        for concurrency in [1, 50] {
            let d = await measure(concurrency: concurrency, target: direct)
            let g = await measure(concurrency: concurrency, target: gateway)
            let added = percentile(g, 0.5) - percentile(d, 0.5)
            print(String(format: "%11d | %16.3f | %17.3f | %15.3f | %11.3f | %11.3f | %d/%d", concurrency,
                         percentile(d, 0.5), percentile(g, 0.5), added, percentile(d, 0.9), percentile(g, 0.9), d.count, g.count))
        }
        await group.triggerGracefulShutdown()
        try await running.value
        client.shutdown()
        try await upstream.shutdown()
    }
}
