import Foundation
import TokenMeterSimulatedUpstream

/// The benchmark's upstream as its own process: `TokenMeterSimulatedUpstream` serving a paced stream like a real
/// model, so the gateway benchmark can measure the gateway alone (Benchmarks/server.sh starts it).
///
///     tokenmeter-bench-upstream [--port 0] [--tokens 32] [--interval-ms 15] [--threads 1]
///
/// Scenarios by requested model (any catalog model resolves these snapshot names in the gateway):
/// - any model not listed below: `--tokens` chunks, each after `--interval-ms` (so the upstream's own
///   time to first token is one interval);
/// - `gpt-4o-mini-2024-01-01` ("idle"): one chunk, then silence with the connection open until the client
///   leaves (memory per idle open stream);
/// - `gpt-4o-mini-2024-01-02` ("fast"): `--tokens` chunks with no pause (most streams per second).
///
/// Prints `listening <port>` once ready, then serves until killed. Keeps no per-request records.
@main
struct BenchUpstream {
    static func main() async throws {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let name = arguments.next() {
            guard name.hasPrefix("--"), let value = arguments.next() else {
                FileHandle.standardError.write(Data("usage: tokenmeter-bench-upstream [--port N] [--tokens N] [--interval-ms N] [--threads N]\n".utf8))
                exit(64)
            }
            options[String(name.dropFirst(2))] = value
        }
        let port = options["port"].flatMap(Int.init) ?? 0
        let tokens = options["tokens"].flatMap(Int.init) ?? 32
        let interval = Duration.milliseconds(options["interval-ms"].flatMap(Int.init) ?? 15)
        let threads = options["threads"].flatMap(Int.init) ?? 1

        let upstream = try await SimulatedUpstream.start(
            port: port, defaultScenario: .counting(tokens, interval: interval), threads: threads, recording: false)
        upstream.setScenario(.counting(1, fault: .stall(afterChunks: 1)), forModel: "gpt-4o-mini-2024-01-01")
        upstream.setScenario(.counting(tokens), forModel: "gpt-4o-mini-2024-01-02")
        FileHandle.standardOutput.write(Data("listening \(upstream.port)\n".utf8))
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
