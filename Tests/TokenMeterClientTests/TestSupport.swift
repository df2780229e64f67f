import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream

/// The sanitizer the suite runs under (`make test-tsan` and `make test-asan` set TOKENMETER_SANITIZER), nil
/// in `make test`. Latency and memory bars are checked only without one: ThreadSanitizer slows code 5 to
/// 15 times and AddressSanitizer holds freed memory in quarantine (256 MB by default), so there neither a
/// duration nor RSS growth measures what the bar is about (docs/ROBUSTNESS.md).
let sanitizer = ProcessInfo.processInfo.environment["TOKENMETER_SANITIZER"]

/// Timeouts short enough that a broken test fails in seconds rather than hanging.
let testTimeouts = ChatTimeouts(connect: 5, firstByte: 5, idle: 5)

/// Runs `body` with a fresh test upstream and a fresh client, shutting both down afterwards.
func withUpstream<T>(
    bufferLimitBytes: Int = 64 << 10, eventLoopThreads: Int = 1,
    _ body: (SimulatedUpstream, ChatClient) async throws -> T
) async throws -> T {
    let upstream = try await SimulatedUpstream.start()
    let client = try ChatClient(configuration: .init(timeouts: testTimeouts, bufferLimitBytes: bufferLimitBytes,
                                                     eventLoopThreads: eventLoopThreads))
    do {
        let result = try await body(upstream, client)
        client.shutdown()
        try await upstream.shutdown()
        return result
    } catch {
        client.shutdown()
        try await upstream.shutdown()
        throw error
    }
}

func openAI(_ upstream: SimulatedUpstream) -> Upstream {
    Upstream(baseURL: upstream.openAIBaseURL, provider: .openAICompatible, apiKey: "sk-test")
}

func ollama(_ upstream: SimulatedUpstream) -> Upstream {
    Upstream(baseURL: upstream.baseURL, provider: .ollama)
}

func request(model: String, _ text: String = "Hi") -> ChatRequest {
    ChatRequest(model: model, messages: [ChatMessage(role: "user", content: text)])
}

/// Runs `count` streams of `model` at once through `client` (request i says "stream i") and returns the text
/// each delivered, in completion order.
func concurrentStreamTexts(_ count: Int, model: String, client: ChatClient, upstream: SimulatedUpstream) async throws -> [String] {
    try await withThrowingTaskGroup(of: String.self) { group in
        for index in 0..<count {
            group.addTask {
                var text = ""
                for try await event in client.stream(request(model: model, "stream \(index)"), to: openAI(upstream)) {
                    text += event.content ?? ""
                }
                return text
            }
        }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}

/// Collects every event of a stream, or the error it ended with.
func collect(_ stream: ChatStream) async -> (events: [ChatEvent], error: ChatClientError?) {
    var events: [ChatEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

/// The process's open sockets and anonymous inodes (eventfd, epoll) among /proc/self/fd.
func openFileDescriptorCount() -> Int {
    // Only the kinds the client opens (sockets, and the eventfd/epoll of its loops): suites outside the
    // resource gate open and close ledger files (SQLite) and pipes to child processes meanwhile.
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.filter { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)") else { return false }
        return target.hasPrefix("socket:") || target.hasPrefix("anon_inode:")
    }.count
}

/// The process's threads (entries of /proc/self/task).
func threadCount() -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).count
}

/// The process's threads named `name` (/proc/self/task/*/comm).
func threadCount(named name: String) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
        (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == name
    }.count
}

/// Resident set size in bytes (/proc/self/statm, second field, times the page size).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}
