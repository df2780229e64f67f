import Foundation
import Synchronization

/// What the simulated upstream saw of one request and what it did about it.
public struct RequestRecord: Sendable {
    /// Sequence number of the request, from 1.
    public var id: Int
    /// Which TCP connection carried it (from 1, in accept order); equal ids mean reuse.
    public var connectionID: Int
    /// The request path, e.g. `/v1/chat/completions`.
    public var path: String
    /// Request headers (name, value) as received.
    public var headers: [(name: String, value: String)]
    /// The request body as received.
    public var body: Data
    /// The `model` field of the body, when it had one.
    public var model: String?
    /// When the request (head and body) had fully arrived.
    public var receivedAt: ContinuousClock.Instant
    /// When each chunk of the response body was written (content chunks and trailer chunks).
    public var chunkWriteTimes: [ContinuousClock.Instant] = []
    /// When the upstream noticed the client closed the connection, if it did while this response
    /// was running.
    public var clientWentAwayAt: ContinuousClock.Instant?
    /// Whether the whole scripted response was written.
    public var completed = false

    /// Number of body chunks written.
    public var chunksWritten: Int { chunkWriteTimes.count }

    /// Chunks written after the client went away (0 when it never did).
    public var chunksWrittenAfterClientWentAway: Int {
        guard let gone = clientWentAwayAt else { return 0 }
        return chunkWriteTimes.filter { $0 > gone }.count
    }

    /// Chunks written after `instant` (e.g. the moment the client cancelled).
    public func chunksWritten(after instant: ContinuousClock.Instant) -> Int {
        chunkWriteTimes.filter { $0 > instant }.count
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// The shared, lock-protected list of records and scenarios.
final class RecordBook: Sendable {
    private struct State {
        var records: [RequestRecord] = []
        var scenariosByModel: [String: UpstreamScenario] = [:]
        var defaultScenario: UpstreamScenario
        var connections = 0
    }

    private let state: Mutex<State>
    /// Whether requests are recorded; when not, ``begin(_:)`` hands out id 0 and ``update(_:_:)`` ignores it.
    private let recording: Bool

    init(defaultScenario: UpstreamScenario, recording: Bool = true) {
        state = Mutex(State(defaultScenario: defaultScenario))
        self.recording = recording
    }

    var records: [RequestRecord] { state.withLock { $0.records } }
    var connectionsAccepted: Int { state.withLock { $0.connections } }

    func setScenario(_ scenario: UpstreamScenario, forModel model: String?) {
        state.withLock { state in
            if let model { state.scenariosByModel[model] = scenario } else { state.defaultScenario = scenario }
        }
    }

    func newConnection() -> Int {
        state.withLock { state in
            state.connections += 1
            return state.connections
        }
    }

    /// Records a request and picks its scenario (by model name, else the default).
    func begin(_ record: RequestRecord) -> (id: Int, scenario: UpstreamScenario) {
        state.withLock { state in
            let scenario = record.model.flatMap { state.scenariosByModel[$0] } ?? state.defaultScenario
            guard recording else { return (0, scenario) }
            var record = record
            record.id = state.records.count + 1
            state.records.append(record)
            return (record.id, scenario)
        }
    }

    func update(_ id: Int, _ change: (inout RequestRecord) -> Void) {
        guard id > 0 else { return }
        state.withLock { state in change(&state.records[id - 1]) }
    }
}
