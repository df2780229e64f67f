import Foundation
import TokenMeterTestSupport
import Synchronization
import TokenMeterJSON

// Helpers of SharedLedgerServeTests: `tokenmeter serve` processes on a PostgreSQL ledger, a plain HTTP/1.1 client
// that sees the answer's `x-request-id` (the ledger record's request id) and reads a stream to its end or to the
// server's death, and psql for looking into the database.

/// What a child process wrote to stdout and stderr, kept in memory as it arrives (the server logs to stdout,
/// its "serving on" line and fatal errors go to stderr).
final class ProcessOutput: Sendable {
    private let data = Mutex(Data())

    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }

    var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }

    /// Reads `pipe` into this buffer until it closes, on a reading thread of its own (the child never blocks on it).
    func drain(_ pipe: Pipe, also other: ProcessOutput? = nil) {
        readUntilClosed(pipe.fileHandleForReading) { chunk in
            self.append(chunk)
            other?.append(chunk)
        }
    }
}

/// Kills (SIGKILL) every process it tracks that still runs: the `defer` of a test, so a failed test leaves no
/// server behind.
final class ProcessJanitor: Sendable {
    private let processes = Mutex<[Process]>([])

    func track(_ process: Process) { processes.withLock { $0.append(process) } }

    func killAll() {
        for process in processes.withLock({ $0 }) where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// `tokenmeter serve --db <url>` as a child process on a kernel-chosen port, with its log (level notice) in memory.
final class LedgerGateway: Sendable {
    let name: String
    let process: Process
    let port: Int
    /// stdout and stderr together.
    let output: ProcessOutput

    var pid: Int32 { process.processIdentifier }
    var log: String { output.text }

    /// Starts the built binary with `--config config --port 0 --db database --log-level notice` and
    /// checkpoints every 50 ms, plus `environment`, and waits (at most 60 s) for its "serving on" line. Blocks:
    /// call it off the cooperative pool.
    init(_ name: String, config: URL, database: String, directory: URL, environment: [String: String] = [:],
         janitor: ProcessJanitor) throws {
        self.name = name
        let process = Process()
        process.executableURL = CLIRunner.binary
        process.arguments = ["serve", "--config", config.path, "--port", "0", "--db", database, "--log-level", "notice"]
        process.currentDirectoryURL = directory
        var env = CLIRunner.inheritedEnvironment
        env["TOKENMETER_DB"] = nil
        env["TOKENMETER_CHECKPOINT_INTERVAL_MS"] = "50"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let output = ProcessOutput(), errors = ProcessOutput()
        output.drain(out)
        errors.drain(err, also: output)
        try process.run()
        janitor.track(process)
        let deadline = ContinuousClock.now + .seconds(60)
        var port: Int?
        while port == nil {
            let text = errors.text
            if let range = text.range(of: "serving on http://127.0.0.1:"),
               let number = Int(text[range.upperBound...].prefix { $0.isNumber }), text[range.upperBound...].contains("/v1") {
                port = number
                break
            }
            if !process.isRunning {
                process.waitUntilExit()
                usleep(50_000)  // the last of its output
                throw LedgerGatewayError("gateway \(name) exited (status \(process.terminationStatus)) before serving: \(output.text)")
            }
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw LedgerGatewayError("gateway \(name) did not start serving within 60 s: \(output.text)")
            }
            usleep(10_000)
        }
        self.process = process
        self.port = port!
        self.output = output
    }

    /// SIGKILL, and wait for the process to be gone. Blocks.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM (graceful shutdown) and the exit status; nil (and SIGKILL) when it has not exited within 30 s. Blocks.
    func terminate() -> Int32? {
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct LedgerGatewayError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs blocking `work` on a thread of its own: many streams read at once must neither block the cooperative pool
/// nor exhaust Dispatch's worker threads.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// One HTTP/1.1 exchange as the client saw it.
struct RawHTTPResult: Sendable {
    /// The status code; 0 when no response head arrived.
    var status = 0
    /// Header fields, names lowercased.
    var headers: [String: String] = [:]
    /// The body, de-chunked.
    var body = Data()
    /// The body ended as its framing says (last chunk, or Content-Length reached); false when the connection
    /// closed or failed first.
    var complete = false
    /// A connect, send or receive failure, if any.
    var failure: String?
    /// From the connect to the end of the response.
    var elapsed: Duration = .zero

    var requestID: String? { headers["x-request-id"] }
    var json: JSONValue? { try? JSONParser.parse(Array(body)) }
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
    var errorType: String? { json?["error"]?["type"]?.stringValue }
    var errorMessage: String? { json?["error"]?["message"]?.stringValue }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A streamed chat completion as the client saw it (OpenAI SSE).
struct RawChatResult: Sendable {
    var http: RawHTTPResult
    /// The deltas' text, in order.
    var content = ""
    /// The finish reason of the final choice chunk.
    var finishReason: String?
    /// The final chunk carried TokenMeter's `"tokenmeter": {"cut_by_budget": true}`.
    var cutByBudget = false
    /// The usage chunk's counts.
    var usagePromptTokens: Int?
    var usageCompletionTokens: Int?
    /// `data: [DONE]` arrived.
    var done = false
    /// An `{"error": …}` event in the stream.
    var streamError: String?

    var status: Int { http.status }
    var requestID: String? { http.requestID }

    /// A short account for messages.
    var summary: String {
        "status \(http.status) id \(http.requestID ?? "-") finish \(finishReason ?? "-") cut \(cutByBudget) done \(done) "
            + "complete \(http.complete) chars \(content.count) usage \(usageCompletionTokens.map(String.init) ?? "-") "
            + "error \(streamError ?? http.failure ?? (http.status >= 400 ? http.bodyText : "-"))"
    }
}

/// A plain HTTP/1.1 client over a blocking socket (`Connection: close`, the response read to the server's close).
enum RawHTTP {
    /// Sends one request to 127.0.0.1:`port` and reads the whole response, on a thread of its own; each receive
    /// waits at most `timeoutSeconds`.
    static func send(port: Int, method: String, path: String, key: String?, body: [UInt8]? = nil,
                     timeoutSeconds: Int = 60) async -> RawHTTPResult {
        await onOwnThread { exchange(port: port, method: method, path: path, key: key, body: body, timeoutSeconds: timeoutSeconds) }
    }

    /// `POST /v1/chat/completions` with `stream: true` and `include_usage`, read to the end.
    static func chat(port: Int, key: String, model: String, prompt: String, maxTokens: Int?,
                     timeoutSeconds: Int = 60) async -> RawChatResult {
        var request: JSONObject = [
            "model": .string(model), "messages": [["role": "user", "content": .string(prompt)]],
            "stream": true, "stream_options": ["include_usage": true],
        ]
        if let maxTokens { request["max_tokens"] = .int(maxTokens) }
        let http = await send(port: port, method: "POST", path: "/v1/chat/completions", key: key,
                              body: JSONValue.object(request).encoded(), timeoutSeconds: timeoutSeconds)
        return parseStream(http)
    }

    /// `GET path` with `key`.
    static func get(port: Int, path: String, key: String?) async -> RawHTTPResult {
        await send(port: port, method: "GET", path: path, key: key, timeoutSeconds: 30)
    }

    static func parseStream(_ http: RawHTTPResult) -> RawChatResult {
        var result = RawChatResult(http: http)
        guard http.status == 200 else { return result }
        var text = String(decoding: http.body, as: UTF8.self)
        // A stream cut off mid-line: only whole lines count.
        if !text.hasSuffix("\n"), let last = text.lastIndex(of: "\n") { text = String(text[...last]) }
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard line.hasPrefix("data:") else { continue }
            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if payload == "[DONE]" {
                result.done = true
                continue
            }
            guard let event = try? JSONParser.parse(payload) else {
                result.streamError = (result.streamError ?? "") + "unparsable event: \(payload)"
                continue
            }
            if let error = event["error"] {
                result.streamError = (result.streamError ?? "") + "\(error)"
                continue
            }
            if let choice = event["choices"]?.arrayValue?.first {
                if let content = choice["delta"]?["content"]?.stringValue { result.content += content }
                if let finish = choice["finish_reason"]?.stringValue { result.finishReason = finish }
            }
            if event["tokenmeter"]?["cut_by_budget"]?.boolValue == true { result.cutByBudget = true }
            if let usage = event["usage"], usage != .null {
                result.usagePromptTokens = usage["prompt_tokens"]?.integerValue
                result.usageCompletionTokens = usage["completion_tokens"]?.integerValue
            }
        }
        return result
    }

    /// The blocking exchange.
    static func exchange(port: Int, method: String, path: String, key: String?, body: [UInt8]?,
                         timeoutSeconds: Int) -> RawHTTPResult {
        let start = ContinuousClock.now
        var result = RawHTTPResult()
        exchange(port: port, method: method, path: path, key: key, body: body, timeoutSeconds: timeoutSeconds, into: &result)
        result.elapsed = start.duration(to: .now)
        return result
    }

    private static func exchange(port: Int, method: String, path: String, key: String?, body: [UInt8]?,
                                 timeoutSeconds: Int, into result: inout RawHTTPResult) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            result.failure = "socket: errno \(errno)"
            return
        }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            result.failure = "connect: errno \(errno)"
            return
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let key { head += "Authorization: Bearer \(key)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + (body ?? [])
        var offset = 0
        while offset < request.count {
            let written = request[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else {
                result.failure = "send: errno \(errno)"
                return
            }
            offset += written
        }
        var raw: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                raw.append(contentsOf: buffer[..<count])
            } else if count == 0 {
                break
            } else {
                if errno == EINTR { continue }
                result.failure = errno == EAGAIN || errno == EWOULDBLOCK
                    ? "no data for \(timeoutSeconds) s" : "recv: errno \(errno)"
                break
            }
        }
        parse(raw, into: &result)
    }

    private static func parse(_ raw: [UInt8], into result: inout RawHTTPResult) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = raw.firstRange(of: separator) else { return }
        let head = String(decoding: raw[..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        result.status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let rest = Array(raw[headEnd.upperBound...])
        if result.headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            (result.body, result.complete) = dechunk(rest)
        } else if let length = result.headers["content-length"].flatMap({ Int($0) }) {
            result.body = Data(rest.prefix(length))
            result.complete = rest.count >= length
        } else {
            result.body = Data(rest)
            result.complete = result.failure == nil
        }
    }

    /// A chunked body's data, and whether its last (empty) chunk arrived.
    static func dechunk(_ bytes: [UInt8]) -> (Data, Bool) {
        var out = Data()
        var index = 0
        let crlf: [UInt8] = [13, 10]
        while true {
            guard let lineEnd = bytes[index...].firstRange(of: crlf) else { return (out, false) }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
                .split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return (out, false) }
            index = lineEnd.upperBound
            if size == 0 { return (out, true) }
            if index + size > bytes.count {
                out.append(contentsOf: bytes[index...])
                return (out, false)
            }
            out.append(contentsOf: bytes[index..<index + size])
            index += size + 2
            if index > bytes.count { return (out, false) }
        }
    }
}

/// SQL through `psql` (from `TOKENMETER_TEST_POSTGRES_BIN`, else `PATH`): rows of text fields, NULL as "".
enum PSQL {
    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let bin = environment["TOKENMETER_TEST_POSTGRES_BIN"], !bin.isEmpty,
           FileManager.default.isExecutableFile(atPath: bin + "/psql") { return bin + "/psql" }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = String(directory) + "/psql"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/psql"
    }

    static let fieldSeparator = "\u{1F}"

    /// Runs `sql` on `url`; blocks.
    static func rowsBlocking(_ url: String, _ sql: String) throws -> [[String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", fieldSeparator, "-d", url, "-c", sql]
        var environment = ProcessInfo.processInfo.environment
        environment["PGCONNECT_TIMEOUT"] = "10"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let errors = ProcessOutput()
        errors.drain(err)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LedgerGatewayError("psql failed (\(process.terminationStatus)) on \(sql): \(errors.text)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.components(separatedBy: fieldSeparator) }
    }

    static func rows(_ url: String, _ sql: String) async throws -> [[String]] {
        try await offPool { try rowsBlocking(url, sql) }
    }

    /// The first field of the first row as a whole number.
    static func int(_ url: String, _ sql: String) async throws -> Int64 {
        let rows = try await rows(url, sql)
        guard let text = rows.first?.first, let value = Int64(text) else {
            throw LedgerGatewayError("expected a number from \(sql), got \(rows)")
        }
        return value
    }
}

/// Polls `condition` every `every` until it holds or `timeout` passes; returns whether it held.
func pollUntil(timeout: Duration, every: Duration = .milliseconds(50),
               _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: every)
    }
    return try await condition()
}
