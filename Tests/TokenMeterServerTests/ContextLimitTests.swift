import Foundation
import Testing
import TokenMeterClient
import TokenMeterJSON
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer

extension ServerTests {
    /// The pre-flight's two context limits, through the real gateway: a model's largest prompt
    /// (`max_input_tokens`) and its whole context (`context_window`, prompt plus output). A user catalog gives a
    /// model small limits (100-token input, 150-token context, as gpt-5's 272k inside 400k), so the prompts stay short.
    @Suite("Context limits")
    struct ContextLimitTests {
        static let catalog = """
            {"format": 1, "models": [
              {"name": "acme-small", "provider": "openai", "encoding": "o200k_base",
               "context_window": 150, "max_input_tokens": 100, "max_output_tokens": 100,
               "price": {"input": "1.00", "output": "2.00", "source": "test price", "date": "2026-12-06"}}
            ]}
            """

        /// Prompt tokens of `chat(_, text)` by the chat rule: 3 per message + the role + the text + 3 reply priming.
        static func promptTokens(_ text: String) throws -> Int {
            let encoding = try Encoding.named(.o200k_base)
            return 3 + encoding.count("user") + encoding.count(text) + 3
        }

        /// A text whose chat prompt is `tokens` tokens or, when that cannot be hit exactly, the first length past it.
        static func text(promptTokens tokens: Int) throws -> String {
            var words = 1
            while try promptTokens(Array(repeating: "apple", count: words).joined(separator: " ")) < tokens { words += 1 }
            return Array(repeating: "apple", count: words).joined(separator: " ")
        }

        static func start() async throws -> (GatewayHarness, URL) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tm-limits-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("models.json")
            try catalog.write(to: file, atomically: true, encoding: .utf8)
            let harness = try await GatewayHarness.start { $0.catalogPath = file.path }
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"]))
            return (harness, directory)
        }

        @Test("a prompt under the input limit with a cap that fills the context exactly is served; one more token of cap is refused, naming the total")
        func totalContext() async throws {
            let (harness, directory) = try await Self.start()
            defer { try? FileManager.default.removeItem(at: directory) }
            let key = try await harness.addUser("ivy")
            let text = try Self.text(promptTokens: 60)
            let prompt = try Self.promptTokens(text)
            #expect(prompt <= 100)

            let fits = await collect(harness.client.stream(chat("acme-small", text, maxTokens: 150 - prompt), to: harness.gateway(key: key)))
            #expect(fits.error == nil)
            let sent = try JSONParser.parse(try #require(harness.upstream.records.first).body)
            #expect(sent["max_tokens"]?.intValue == Int64(150 - prompt))

            let over = await collect(harness.client.stream(chat("acme-small", text, maxTokens: 150 - prompt + 1), to: harness.gateway(key: key)))
            guard case .httpStatus(400, let body?, _)? = over.error else {
                Issue.record("expected 400, got \(String(describing: over.error))")
                try await harness.stop()
                return
            }
            #expect(body.code == "context_length_exceeded")
            #expect(body.param == "messages")
            #expect(body.message == "This model's maximum context length is 150 tokens. However, you requested 151 tokens "
                + "(\(prompt) in the messages, \(150 - prompt + 1) in the completion). Please reduce the length of the messages or completion.")
            #expect(harness.upstream.records.count == 1, "no upstream call for the refused request")
            _ = try await harness.waitForRecords(user: "ivy", count: 1)
            try await harness.stop()
        }

        @Test("a prompt over the input limit is refused naming the input limit, even without a cap and inside the total context")
        func inputLimit() async throws {
            let (harness, directory) = try await Self.start()
            defer { try? FileManager.default.removeItem(at: directory) }
            let key = try await harness.addUser("jo")
            let text = try Self.text(promptTokens: 101)
            let prompt = try Self.promptTokens(text)
            #expect(prompt > 100 && prompt < 150, "over the input limit, inside the context window")

            let (events, error) = await collect(harness.client.stream(chat("acme-small", text), to: harness.gateway(key: key)))
            #expect(events.isEmpty)
            guard case .httpStatus(400, let body?, _)? = error else {
                Issue.record("expected 400, got \(String(describing: error))")
                try await harness.stop()
                return
            }
            #expect(body.code == "context_length_exceeded")
            #expect(body.message == "This model's maximum input length is 100 tokens. However, your messages resulted in "
                + "\(prompt) tokens. Please reduce the length of the messages.")
            #expect(harness.upstream.records.isEmpty)
            #expect(try harness.records(user: "jo").isEmpty)
            try await harness.stop()
        }

        @Test("without a cap the cap sent upstream is what the context leaves beside the prompt, below the model's maximum output")
        func capIsTheRoomLeft() async throws {
            let (harness, directory) = try await Self.start()
            defer { try? FileManager.default.removeItem(at: directory) }
            let key = try await harness.addUser("kit")
            let text = try Self.text(promptTokens: 80)
            let prompt = try Self.promptTokens(text)
            #expect(prompt <= 100 && 150 - prompt < 100)

            let (_, error) = await collect(harness.client.stream(chat("acme-small", text), to: harness.gateway(key: key)))
            #expect(error == nil)
            let sent = try JSONParser.parse(try #require(harness.upstream.records.first).body)
            #expect(sent["max_completion_tokens"]?.intValue == Int64(150 - prompt))
            _ = try await harness.waitForRecords(user: "kit", count: 1)
            try await harness.stop()
        }
    }
}
