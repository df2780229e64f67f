import Foundation
import GRDB
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream
import TokenMeterTestSupport
import TokenMeterTokenizer
import TokenMeterJSON

/// `tokenmeter serve` as a real process, killed with SIGKILL while it streams (docs/FAULTS.md, "Crash").
@Suite("tokenmeter serve under kill -9")
struct ServeCrashTests {
    /// Models and what the test upstream does for each: two stall after a fixed number of chunks (their
    /// streams are open but quiet when the server dies, so their last checkpoint is known exactly); one
    /// is still streaming when it dies.
    static let stallAfter = ["gpt-4o-mini": 30, "gpt-4.1-mini": 7]
    static let flowing = "gpt-4o"
    static let models = ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"]
    static let users = (0..<5).map { "crash\($0)" }
    static let monthlyLimitPicoUSD: Int64 = 5_000_000_000_000  // $5

    @Test("kill -9 during 50 streams: after a restart every stream has one interrupted record with its last checkpoint, sums and budgets hold, integrity ok, and it serves again")
    func killNineDuringFiftyStreams() async throws {
        // 50 streams, two server processes and CLI runs load a 2-core machine: keep the in-process server
        // tests (shared holders of the gate) from running at the same time.
        try await ProcessResourceGate.shared.exclusive { try await run() }
    }

    private func run() async throws {
        let upstream = try await SimulatedUpstream.start()
        let runner = try CLIRunner()
        let client = try ChatClient(configuration: .init(timeouts: ChatTimeouts(connect: 5, firstByte: 10, idle: 30)))
        defer { client.shutdown() }
        for (model, count) in Self.stallAfter {
            upstream.setScenario(.counting(200, interval: .milliseconds(2), fault: .stall(afterChunks: count)), forModel: model)
        }
        // Its chunks differ from the stalled streams' ("f0 " …, not "t0 " …), so no flowing stream's text can
        // pass for a stalled one's.
        upstream.setScenario(UpstreamScenario(chunks: (0..<100_000).map { "f\($0) " }, interval: .milliseconds(15)), forModel: Self.flowing)

        // The first user and key through the real CLI, the others through the ledger's administration API
        // (each CLI run is a process start; on a loaded machine that is most of this test's time).
        var keys: [String: String] = [:]
        #expect(try await offPool { try runner.ledger("users", "add", Self.users[0], "--monthly-usd", "5") }.status == 0)
        let issued = try await offPool { try runner.ledger("keys", "create", Self.users[0]) }
        #expect(issued.status == 0, "\(issued.stderr)")
        keys[Self.users[0]] = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var administration = SQLiteUsageStore.Configuration()
        administration.role = .administration
        let admin = try SQLiteUsageStore(path: runner.database, configuration: administration)
        for user in Self.users.dropFirst() {
            let added = try await admin.addUser(name: user, budget: Budget(monthlyLimit: Money(picoUSD: Self.monthlyLimitPicoUSD)))
            keys[user] = try await admin.createAPIKey(userID: added.id).key
        }
        try await admin.close()
        let config = runner.directory.appendingPathComponent("serve.yaml")
        try """
            upstreams:
              - name: test
                provider: openai
                base_url: \(upstream.openAIBaseURL)
                api_key: sk-crash-upstream
                timeouts: {connect_seconds: 5, first_byte_seconds: 10, idle_seconds: 60}
            # Slices of 16 tokens: every stream's hold grows while it streams, so the kill finds holds that grew.
            holds: {max_slice_tokens: 16}
            """.write(to: config, atomically: true, encoding: .utf8)

        var server = try await offPool { try ServeProcess(runner: runner, config: config.path) }
        let gatewayURL = "http://127.0.0.1:\(server.port)/v1"

        // 50 streams: 10 per user, the models in turn.
        let streams = (0..<50).map { i -> (user: String, model: String) in (Self.users[i % 5], Self.models[i % 3]) }
        let readers = streams.map { stream in
            let request = ChatRequest(model: stream.model, messages: [ChatMessage(role: "user", content: "count for me")], maxTokens: 2000)
            let chat = client.stream(request, to: Upstream(baseURL: gatewayURL, provider: .openAICompatible, apiKey: keys[stream.user]!))
            return Task { () -> (model: String, text: String) in
                var text = ""
                do { for try await event in chat { text += event.content ?? "" } } catch {}
                return (stream.model, text)
            }
        }

        // Wait until every stream is open with a checkpoint, and the stalled ones have checkpointed all they sent.
        let ledger = try Self.ledger(runner.database)
        let encoding = try Encoding.named(.o200k_base)
        let expectedStalled = Self.stallAfter.mapValues {
            Int64(encoding.count(UpstreamScenario.counting(200).chunks.prefix($0).joined()))
        }
        let allCheckpointed = try await Self.poll(timeout: .seconds(30)) {
            let rows = try ledger.read { db in
                try Row.fetchAll(db, sql: "SELECT model, completion_tokens FROM reservations WHERE checkpoint_at IS NOT NULL")
            }
            let stalledDone = rows.filter { row in expectedStalled[row["model"] as String].map { $0 == row["completion_tokens"] } ?? false }
            let flowingStarted = rows.filter { $0["model"] as String == Self.flowing && ($0["completion_tokens"] as Int64) > 0 }
            return stalledDone.count == 34 && flowingStarted.count == 16
        }
        if !allCheckpointed {
            let state: [String] = try await ledger.read { db in
                let open = try Row.fetchAll(db, sql: """
                    SELECT model, checkpoint_at IS NOT NULL AS checkpointed, completion_tokens, COUNT(*) AS n
                    FROM reservations GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                    """).map { row -> String in
                    let model: String = row["model"], checkpointed: Bool = row["checkpointed"]
                    let tokens: Int64 = row["completion_tokens"], n: Int = row["n"]
                    return "\(model) checkpointed=\(checkpointed) tokens=\(tokens): \(n)"
                }
                let settled = try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM usage_records GROUP BY 1")
                    .map { row -> String in
                        let status: String = row["status"], n: Int = row["n"]
                        return "record \(status): \(n)"
                    }
                return open + settled
            }
            let message = "not every stream reached its checkpoint before the kill; upstream saw \(upstream.records.count) "
                + "requests; expected stalled counts \(expectedStalled); ledger: \(state)"
            Issue.record(Comment(rawValue: message))
        }

        let dying = server
        await offPool { dying.kill9() }
        // The ledger as the dead server left it: what recovery must turn into records.
        let leftOpen = try await ledger.read { db in
            try Row.fetchAll(db, sql: "SELECT request_id, user_id, \(Self.usageColumns) FROM reservations ORDER BY request_id")
        }
        #expect(leftOpen.count == 50)
        // The stalled gpt-4o-mini streams delivered 30 tokens on holds that started at 16 output tokens.
        let grown = try await ledger.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations WHERE held_tokens - prompt_tokens > 16")
        }
        #expect((grown ?? 0) >= 17, "holds that grew: \(grown ?? 0)")
        #expect(try await ledger.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM usage_records") } == 0)
        let received = await withTaskGroup(of: (model: String, text: String).self) { group in
            for reader in readers { group.addTask { await reader.value } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(received.count == 50)
        // Each stalled stream's client got exactly what its checkpoint holds.
        for (model, count) in Self.stallAfter {
            let text = UpstreamScenario.counting(200).chunks.prefix(count).joined()
            #expect(received.filter { $0.model == model }.map(\.text) == Array(repeating: text, count: 17), "\(model)")
        }

        // Restart on the same database.
        server = try await offPool { try ServeProcess(runner: runner, config: config.path) }
        #expect(try await ledger.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM reservations") } == 0)
        let records = try await ledger.read { db in
            try Row.fetchAll(db, sql: "SELECT request_id, user_id, \(Self.usageColumns), status FROM usage_records ORDER BY request_id")
        }
        #expect(records.count == 50)
        #expect(Set(records.map { $0["status"] as String }) == ["interrupted"])
        #expect(Set(records.map { $0["request_id"] as String }).count == 50, "one record per stream")
        for (record, open) in zip(records, leftOpen) {
            #expect(record["request_id"] as String == open["request_id"] as String)
            for column in Self.usageColumns.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                #expect(record[column] as DatabaseValue == open[column] as DatabaseValue,
                        "\(open["request_id"] as String) \(column)")
            }
        }
        // Sums: the rollup equals the records; each user's /v1/usage and budget agree with them.
        let mismatches = try await ledger.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM (SELECT user_id, COUNT(*) n, SUM(billed_tokens) t, SUM(cost_pusd) c
                                      FROM usage_records GROUP BY user_id) s
                LEFT JOIN monthly_usage m ON m.user_id = s.user_id
                WHERE m.request_count IS NOT s.n OR m.billed_tokens IS NOT s.t OR m.cost_pusd IS NOT s.c
                """)
        }
        #expect(mismatches == 0)
        #expect(try await ledger.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        for user in Self.users {
            let spent = try await ledger.read { db in
                try Int64.fetchOne(db, sql: """
                    SELECT COALESCE(SUM(r.cost_pusd), 0) FROM usage_records r JOIN users u ON u.id = r.user_id WHERE u.name = ?
                    """, arguments: [user])
            } ?? -1
            let (port, key) = (server.port, keys[user]!)
            let usage = try await offPool { try Self.getJSON(gatewayURL: "http://127.0.0.1:\(port)/v1", key: key) }
            #expect(usage["requests"]?.intValue == 10, "\(user)")
            #expect(usage["cost_picousd"]?.intValue == spent, "\(user)")
            #expect(spent > 0, "\(user)")
            #expect(usage["this_month"]?["held_tokens"]?.intValue == 0, "\(user): nothing is held after recovery")
            let remaining = try #require(usage["this_month"]?["remaining_usd"]?.stringValue)
            #expect(Self.picoUSD(remaining) == Self.monthlyLimitPicoUSD - spent, "\(user): \(remaining)")
        }

        // It serves again.
        upstream.setDefaultScenario(UpstreamScenario(chunks: ["back ", "again"]))
        let again = client.stream(ChatRequest(model: "gpt-4.1-nano", messages: [ChatMessage(role: "user", content: "hi")]),
                                  to: Upstream(baseURL: "http://127.0.0.1:\(server.port)/v1", provider: .openAICompatible,
                                               apiKey: keys["crash0"]!))
        var text = ""
        for try await event in again { text += event.content ?? "" }
        #expect(text == "back again")
        #expect(try await Self.poll(timeout: .seconds(5)) {
            try ledger.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM usage_records WHERE status = 'completed'") } == 1
        })
        let stopping = server
        #expect(try await offPool { try stopping.terminate() } == 0)
        try await upstream.shutdown()
    }

    static let usageColumns = """
        prompt_tokens, completion_tokens, provider_prompt_tokens, provider_completion_tokens, provider_cached_tokens, \
        provider_reasoning_tokens, billed_by, billed_tokens, cost_pusd
        """

    static func ledger(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
    static func poll(timeout: Duration, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    /// `GET /v1/usage` with `key`, parsed.
    static func getJSON(gatewayURL: String, key: String) throws -> JSONValue {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        // --noproxy: the client tests set http_proxy for the whole process for a moment (EnvironmentTests).
        process.arguments = ["-s", "--noproxy", "*", "--max-time", "10", "-H", "Authorization: Bearer \(key)", gatewayURL + "/usage"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONParser.parse(data)
    }

    /// An exact decimal USD string ("4.99", "5") as pico-USD.
    static func picoUSD(_ decimal: String) -> Int64? {
        let parts = decimal.split(separator: ".", omittingEmptySubsequences: false)
        guard let whole = Int64(parts[0]), parts.count <= 2 else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 12, let digits = Int64(fraction.padding(toLength: 12, withPad: "0", startingAt: 0)) else { return nil }
        return whole * 1_000_000_000_000 + digits
    }
}

/// Runs blocking work (waiting for a child process, reading its pipes) on a Dispatch thread, so the
/// cooperative pool (two threads on a 2-core machine) stays free for the servers in this test process.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// ``offPool(_:)`` for work that cannot fail.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// `tokenmeter serve` as a child process on a kernel-chosen port.
struct ServeProcess: Sendable {
    let process: Process
    let port: Int
    private let stderr: Pipe

    /// Starts the built binary with `--config config --port 0 --db <runner's database>` and waits for its
    /// "serving on" line (checkpoints every 50 ms, so a crash loses little).
    init(runner: CLIRunner, config: String) throws {
        process = Process()
        process.executableURL = CLIRunner.binary
        process.arguments = ["serve", "--config", config, "--port", "0", "--db", runner.database, "--log-level", "warning"]
        process.currentDirectoryURL = runner.directory
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENMETER_CHECKPOINT_INTERVAL_MS"] = "50"
        process.environment = environment
        stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        let handle = stderr.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { throw ServeProcessError.exited(String(decoding: seen, as: UTF8.self)) }
            seen += chunk
            let text = String(decoding: seen, as: UTF8.self)
            if let range = text.range(of: "serving on http://127.0.0.1:"),
               let port = Int(text[range.upperBound...].prefix { $0.isNumber }), text[range.upperBound...].contains("/v1") {
                self.port = port
                break
            }
        }
        // Keep draining stderr so the server never blocks on a full pipe.
        readUntilClosed(handle) { _ in }
    }

    /// SIGKILL, and wait for the process to be gone.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM (graceful shutdown) and the exit status.
    func terminate() throws -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

enum ServeProcessError: Error { case exited(String) }
