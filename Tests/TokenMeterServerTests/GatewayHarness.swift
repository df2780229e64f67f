import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterServer
import TokenMeterSimulatedUpstream
import TokenMeterTestSupport
import TokenMeterTokenizer

/// Every server test runs one at a time: each starts a real server and upstream, and the timing bars
/// (50 ms) are meaningless on a 2-core machine running a dozen servers at once.
@Suite("TokenMeter server", .serialized) struct ServerTests {}

/// Deadlines short enough that a broken test fails in seconds.
let testTimeouts = ChatTimeouts(connect: 5, firstByte: 5, idle: 5)

/// A real TokenMeter server on 127.0.0.1 (port chosen by the kernel) in front of a real test upstream, with
/// a temporary ledger file. Stop it with ``stop()``.
final class GatewayHarness: Sendable {
    let upstream: SimulatedUpstream
    let databasePath: String
    let port: Int
    /// A client for calling the gateway as an SDK would.
    let client: ChatClient
    private let group: ServiceGroup
    private let running: Task<Void, any Error>
    let ownsUpstream: Bool

    /// Starts a server; `configure` edits the configuration (the test upstream is the only upstream).
    /// `ledger` `.postgres` puts the ledger in a fresh database on the test PostgreSQL cluster instead of a file.
    static func start(upstream given: SimulatedUpstream? = nil, databasePath: String? = nil, ledger: LedgerKind = .sqlite,
                      provider: Upstream.Provider = .openAICompatible, logger givenLogger: Logger? = nil,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> GatewayHarness {
        _ = try Encoding.named(.o200k_base)  // load the vocabulary before any deadline runs
        if ledger == .postgres { try PostgresTestCluster.requirement.check() }
        await ProcessResourceGate.shared.enterShared()
        let upstream: SimulatedUpstream
        if let given { upstream = given } else { upstream = try await SimulatedUpstream.start() }
        let path = try databasePath ?? (ledger == .postgres ? PostgresTestCluster.freshDatabase("server")
            : FileManager.default.temporaryDirectory.appendingPathComponent("tm-server-\(UUID().uuidString).sqlite").path)
        var configuration = ServerConfiguration(upstreams: [
            UpstreamConfiguration(name: "test", baseURL: provider == .ollama || provider == .anthropic ? upstream.baseURL : upstream.openAIBaseURL,
                                  provider: provider, apiKey: "sk-upstream-secret", timeouts: testTimeouts),
        ])
        configuration.port = 0
        configuration.databasePath = path
        configuration.checkpointInterval = .milliseconds(100)
        configuration.adminKey = "admin-key-0123456789abcdef"
        configure(&configuration)
        var logger = Logger(label: "tokenmeter-test")
        logger.logLevel = .warning
        if let givenLogger { logger = givenLogger }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try await buildApplication(configuration, logger: logger) { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError.serverDidNotStart }
        let client = try ChatClient(configuration: .init(timeouts: testTimeouts))
        return GatewayHarness(upstream: upstream, databasePath: path, port: port, client: client, group: group,
                              running: running, ownsUpstream: given == nil)
    }

    private init(upstream: SimulatedUpstream, databasePath: String, port: Int, client: ChatClient, group: ServiceGroup,
                 running: Task<Void, any Error>, ownsUpstream: Bool) {
        self.upstream = upstream
        self.databasePath = databasePath
        self.port = port
        self.client = client
        self.group = group
        self.running = running
        self.ownsUpstream = ownsUpstream
    }

    /// Shuts the server down gracefully and waits for it; shuts the upstream down when the harness made it.
    /// `keepClient` leaves the test's client running, for a test still reading what the server wrote last
    /// (it then calls `client.shutdown()` itself).
    /// After the server has stopped, no hold may be left in the ledger: every request it admitted was settled
    /// (`holdsLeft` names how many a test leaves open on purpose, e.g. a settle the ledger refused until the end).
    func stop(keepUpstream: Bool = false, keepClient: Bool = false, holdsLeft: Int = 0,
              sourceLocation: SourceLocation = #_sourceLocation) async throws {
        await group.triggerGracefulShutdown()
        try await running.value
        let open = try openReservations()
        #expect(open == holdsLeft, "\(open) reservations left open after the server stopped", sourceLocation: sourceLocation)
        if !keepClient { client.shutdown() }
        if ownsUpstream && !keepUpstream { try await upstream.shutdown() }
        await ProcessResourceGate.shared.leaveShared()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The gateway as an OpenAI-compatible upstream for `key`.
    func gateway(key: String) -> Upstream {
        Upstream(baseURL: baseURL + "/v1", provider: .openAICompatible, apiKey: key)
    }

    /// Whether the ledger is a PostgreSQL database (else a SQLite file).
    var isPostgres: Bool { databasePath.hasPrefix("postgres") }

    /// Adds a user with `budget` and returns a fresh key, through the ledger's administration role.
    func addUser(_ name: String, budget: Budget = .unlimited) async throws -> String {
        if isPostgres {
            var configuration = PostgresUsageStore.Configuration()
            configuration.role = .administration
            let admin = try await PostgresUsageStore.open(url: databasePath, configuration: configuration)
            let user = try await admin.addUser(name: name, budget: budget)
            let key = try await admin.createAPIKey(userID: user.id).key
            try await admin.close()
            return key
        }
        var configuration = SQLiteUsageStore.Configuration()
        configuration.role = .administration
        let admin = try SQLiteUsageStore(path: databasePath, configuration: configuration)
        let user = try await admin.addUser(name: name, budget: budget)
        return try await admin.createAPIKey(userID: user.id).key
    }

    /// One settled usage record as stored.
    struct Record: Sendable {
        var requestID: String
        var status: String
        var promptTokens: Int64
        var completionTokens: Int64
        var providerCompletionTokens: Int64?
        var billedBy: String
        var billedTokens: Int64
        var costPicoUSD: Int64
        /// Of the completion tokens, how many are an estimate (hidden output the provider did not report).
        var estimatedCompletionTokens: Int64 = 0
        /// Of the cost, the estimated part.
        var estimatedPicoUSD: Int64 = 0
    }

    /// The settled records of `user`, oldest first.
    func records(user: String) throws -> [Record] {
        if isPostgres {
            let rows = try PostgresTestCluster.query(databasePath, """
                SELECT r.request_id, r.status, r.prompt_tokens, r.completion_tokens, r.provider_completion_tokens, r.billed_by,
                       r.billed_tokens, r.cost_pusd, r.estimated_completion_tokens, r.estimated_pusd
                FROM usage_records r JOIN users u ON u.id = r.user_id
                WHERE u.name = '\(user.replacingOccurrences(of: "'", with: "''"))' ORDER BY r.id
                """)
            return rows.map { c in
                Record(requestID: c[0]!, status: c[1]!, promptTokens: Int64(c[2]!)!, completionTokens: Int64(c[3]!)!,
                       providerCompletionTokens: c[4].flatMap { Int64($0) }, billedBy: c[5]!, billedTokens: Int64(c[6]!)!,
                       costPicoUSD: Int64(c[7]!)!, estimatedCompletionTokens: Int64(c[8]!)!, estimatedPicoUSD: Int64(c[9]!)!)
            }
        }
        // The server writes while the test reads: wait for its lock instead of failing with SQLITE_BUSY.
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: databasePath, configuration: configuration)
        return try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.request_id, r.status, r.prompt_tokens, r.completion_tokens, r.provider_completion_tokens, r.billed_by,
                       r.billed_tokens, r.cost_pusd, r.estimated_completion_tokens, r.estimated_pusd
                FROM usage_records r JOIN users u ON u.id = r.user_id WHERE u.name = ? ORDER BY r.id
                """, arguments: [user]).map {
                Record(requestID: $0[0], status: $0[1], promptTokens: $0[2], completionTokens: $0[3], providerCompletionTokens: $0[4],
                       billedBy: $0[5], billedTokens: $0[6], costPicoUSD: $0[7], estimatedCompletionTokens: $0[8],
                       estimatedPicoUSD: $0[9])
            }
        }
    }

    /// Waits until `user` has `count` records (settling happens as the stream unwinds), then returns them.
    func waitForRecords(user: String, count: Int, timeout: Duration = .seconds(5)) async throws -> [Record] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = try records(user: user)
            if found.count >= count || ContinuousClock.now > deadline { return found }
            // On PostgreSQL each look is a psql process that blocks this thread: look less often.
            try await Task.sleep(for: .milliseconds(isPostgres ? 100 : 10))
        }
    }
}

enum HarnessError: Error { case serverDidNotStart }

/// Where a harness keeps its ledger.
enum LedgerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The ledgers a test runs on here: SQLite always, PostgreSQL when the machine has one or every requirement
    /// must be met (`make test`; see `PostgresTestCluster.requirement`).
    static var available: [LedgerKind] { PostgresTestCluster.requirement.shouldRun ? [.sqlite, .postgres] : [.sqlite] }
}

/// A chat request for `model` with one user message.
func chat(_ model: String = "gpt-4o-mini", _ text: String = "Say hello", maxTokens: Int? = nil,
          includeUsage: Bool = false) -> ChatRequest {
    var request = ChatRequest(model: model, messages: [ChatMessage(role: "user", content: text)], maxTokens: maxTokens)
    if includeUsage { request.body["stream_options"] = ["include_usage": true] }
    return request
}

/// Every event of a stream, and the error it ended with.
func collect(_ stream: ChatStream) async -> (events: [ChatEvent], error: ChatClientError?) {
    var events: [ChatEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

/// Runs curl against the gateway and returns (HTTP status, body). `body` is sent as raw bytes.
/// `--noproxy '*'`: the client tests set `http_proxy` for the whole process while this suite may be running
/// (EnvironmentTests), and a curl started then went to that proxy instead of the gateway. The 60 s ceiling
/// only ends a hung request: under ThreadSanitizer, with the whole suite running, a first completion took
/// more than 10 s (docs/ROBUSTNESS.md).
func curl(_ url: String, method: String = "POST", key: String?, body: [UInt8]? = nil,
          headers: [String] = []) throws -> (status: Int, body: String) {
    var args = ["-s", "-S", "-X", method, "-o", "-", "-w", "\n%{http_code}", "--max-time", "60", "--noproxy", "*"]
    if let key { args += ["-H", "Authorization: Bearer \(key)"] }
    for h in headers { args += ["-H", h] }
    if body != nil { args += ["-H", "Content-Type: application/json", "--data-binary", "@-"] }
    args.append(url)
    let text = try runCurl(args, input: body)
    guard let newline = text.lastIndex(of: "\n") else { return (0, text) }
    return (Int(text[text.index(after: newline)...]) ?? 0, String(text[..<newline]))
}

/// Like ``curl(_:method:key:body:headers:)``, with the answer's headers (names in lowercase).
func curlWithHeaders(_ url: String, method: String = "POST", key: String?, body: [UInt8]? = nil)
    throws -> (status: Int, headers: [String: String], body: String) {
    var args = ["-s", "-S", "-X", method, "-D", "-", "-o", "-", "--max-time", "60", "--noproxy", "*"]
    if let key { args += ["-H", "Authorization: Bearer \(key)"] }
    if body != nil { args += ["-H", "Content-Type: application/json", "--data-binary", "@-"] }
    args.append(url)
    let text = try runCurl(args, input: body)
    guard let end = text.range(of: "\r\n\r\n") else { return (0, [:], text) }
    let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
    let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return (status, headers, String(text[end.upperBound...]))
}

/// Runs /usr/bin/curl with `arguments` (the caller adds `--noproxy '*'`, see ``curl(_:method:key:body:headers:)``),
/// `input` on its standard input, and returns what it printed.
func runCurl(_ arguments: [String], input body: [UInt8]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = arguments
    let input = Pipe()
    let output = Pipe()
    process.standardOutput = output
    process.standardInput = input
    try process.run()
    // curl may exit (an early 413, a timeout) before reading the whole body: no SIGPIPE for the test process.
    signal(SIGPIPE, SIG_IGN)
    if let body { try? input.fileHandleForWriting.write(contentsOf: Data(body)) }
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
