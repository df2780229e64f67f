import Foundation
import Testing
import TokenMeterSimulatedUpstream

/// `tokenmeter chat` against the real test upstream on 127.0.0.1, run as a subprocess.
@Suite(.serialized) struct ChatCommandTests {
    let cli = try! CLIRunner()

    @Test func streamsTheAnswerThenProviderCountsAndExactCost() async throws {
        let upstream = try await SimulatedUpstream.start(defaultScenario: UpstreamScenario(chunks: ["Hello", ",", " world", "!"], promptTokens: 9))
        defer { Task { try? await upstream.shutdown() } }
        let r = try cli.run(["chat", "--base-url", upstream.openAIBaseURL, "--model", "gpt-4o-mini", "Say hello"])
        #expect(r.status == 0)
        #expect(r.stdout == "Hello, world!")
        // gpt-4o-mini: $0.15 / 1M in, $0.60 / 1M out: 9 × 150,000 + 4 × 600,000 pUSD = $0.00000375.
        #expect(r.stderr.contains("prompt 9 tokens, completion 4 tokens, provider-reported"))
        #expect(r.stderr.contains("cost $0.00000375 (gpt-4o-mini"))
        // The request asked the upstream for usage and streaming.
        let body = try #require(upstream.records.first?.body)
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(json["stream"] as? Bool == true)
        #expect((json["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
    }

    @Test func ollamaNativeIsMeteredAtTheLocalZeroPrice() async throws {
        let upstream = try await SimulatedUpstream.start(defaultScenario: UpstreamScenario(chunks: ["Hi", " there"], promptTokens: 12))
        defer { Task { try? await upstream.shutdown() } }
        let r = try cli.run(["chat", "--ollama", "--base-url", upstream.baseURL, "--model", "llama3.2", "hello"])
        #expect(r.status == 0)
        #expect(r.stdout == "Hi there")
        #expect(r.stderr.contains("prompt 12 tokens, completion 2 tokens, provider-reported"))
        #expect(r.stderr.contains("cost $0.00"))
        #expect(upstream.records.first?.path == "/api/chat")
    }

    @Test func refusedKeyAndDeadUpstreamHaveTheirExitCodes() async throws {
        let upstream = try await SimulatedUpstream.start(defaultScenario: UpstreamScenario(
            fault: .status(401, message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key")))
        let refused = try cli.run(["chat", "--base-url", upstream.openAIBaseURL, "--model", "gpt-4o", "x"],
                                  environment: ["OPENAI_API_KEY": "sk-test"])
        #expect(refused.status == 77)
        #expect(refused.stderr.contains("Incorrect API key provided"))
        let port = upstream.port
        try await upstream.shutdown()
        let dead = try cli.run(["chat", "--base-url", "http://127.0.0.1:\(port)/v1", "--model", "gpt-4o", "x"])
        #expect(dead.status == 69)
        let missingKey = try cli.run(["chat", "--base-url", "http://127.0.0.1:\(port)/v1", "--model", "gpt-4o",
                                      "--api-key-env", "TOKENMETER_TEST_UNSET_KEY", "x"])
        #expect(missingKey.status == 64)
        #expect(missingKey.stderr.contains("TOKENMETER_TEST_UNSET_KEY"))
    }

    @Test func ctrlCCancelsAndTheUpstreamSeesTheConnectionClose() async throws {
        let upstream = try await SimulatedUpstream.start(defaultScenario: .counting(200, interval: .milliseconds(20)))
        defer { Task { try? await upstream.shutdown() } }
        let process = Process()
        process.executableURL = CLIRunner.binary
        process.arguments = ["chat", "--base-url", upstream.openAIBaseURL, "--model", "gpt-4o", "count"]
        process.environment = CLIRunner.inheritedEnvironment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        #expect(await upstream.waitUntil(timeout: .seconds(10)) { ($0.first?.chunksWritten ?? 0) >= 5 })
        process.interrupt()  // SIGINT, as Ctrl-C
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(stderr.contains("cancelled after"))
        #expect(await upstream.waitUntil(timeout: .seconds(2)) { $0.first?.clientWentAwayAt != nil })
        let record = try #require(upstream.records.first)
        #expect(record.completed == false)
        #expect(record.chunksWrittenAfterClientWentAway <= 1)
    }
}
