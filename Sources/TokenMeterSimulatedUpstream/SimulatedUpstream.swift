import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 chat upstream on 127.0.0.1 that simulates a provider: answers OpenAI-compatible
/// `POST /v1/chat/completions` (SSE) and Ollama `POST /api/chat` (NDJSON) with scripted streams
/// and faults, and records per request what it wrote and when the client went away.
///
/// The end-to-end tests and benchmarks drive it, and `tokenmeter demo` answers its simulated models with it;
/// `tokenmeter serve` never starts one. No model runs here: every answer is the scenario's canned text.
///
/// ```swift
/// let upstream = try await SimulatedUpstream.start()
/// upstream.setScenario(.counting(100, interval: .milliseconds(5)), forModel: "slow")
/// // point a client at upstream.openAIBaseURL or upstream.baseURL (Ollama) with model "slow"
/// let record = upstream.records.last
/// try await upstream.shutdown()
/// ```
public final class SimulatedUpstream: Sendable {
    /// The TCP port it listens on.
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let book: RecordBook

    private init(port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, book: RecordBook) {
        self.port = port
        self.group = group
        self.channel = channel
        self.book = book
    }

    /// Starts listening on `127.0.0.1:port` (0 picks a free port) with `threads` event-loop threads.
    /// Requests whose model has no scenario get `defaultScenario`. With `recording: false` no
    /// ``RequestRecord`` is kept (``records`` stays empty), so a long benchmark run uses constant memory.
    public static func start(port: Int = 0, defaultScenario: UpstreamScenario = UpstreamScenario(), threads: Int = 1,
                             recording: Bool = true) async throws -> SimulatedUpstream {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let book = RecordBook(defaultScenario: defaultScenario, recording: recording)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(UpstreamHTTPHandler(book: book))
                    }
                }
                .bind(host: "127.0.0.1", port: port).get()
            guard let boundPort = channel.localAddress?.port else { throw SimulatedUpstreamError.noPort }
            return SimulatedUpstream(port: boundPort, group: group, channel: channel, book: book)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// `http://127.0.0.1:PORT`: the base URL for an Ollama-native client.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// `http://127.0.0.1:PORT/v1`: the base URL for an OpenAI-compatible client.
    public var openAIBaseURL: String { baseURL + "/v1" }

    /// Answers requests for `model` with `scenario`.
    public func setScenario(_ scenario: UpstreamScenario, forModel model: String) {
        book.setScenario(scenario, forModel: model)
    }

    /// Answers requests for models without their own scenario with `scenario`.
    public func setDefaultScenario(_ scenario: UpstreamScenario) {
        book.setScenario(scenario, forModel: nil)
    }

    /// Every request so far, in arrival order.
    public var records: [RequestRecord] { book.records }

    /// How many TCP connections were accepted so far.
    public var connectionsAccepted: Int { book.connectionsAccepted }

    /// Polls (every 1 ms) until `condition` holds for the records or `timeout` passes; returns
    /// whether it held.
    public func waitUntil(timeout: Duration, _ condition: ([RequestRecord]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(records) { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return condition(records)
    }

    /// Stops listening, closes open connections and stops the event-loop thread.
    public func shutdown() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }
}

/// Failures starting the simulated upstream.
public enum SimulatedUpstreamError: Error {
    /// The listening socket reported no port.
    case noPort
}
