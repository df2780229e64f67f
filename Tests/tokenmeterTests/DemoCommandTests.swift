import Foundation
import Synchronization
import Testing
import TokenMeterJSON
import TokenMeterTestSupport
import TokenMeterTokenizer

/// `tokenmeter demo` as a newcomer meets it: the built binary, and the commands it prints run exactly as
/// printed, through `sh`.
@Suite("tokenmeter demo")
struct DemoCommandTests {
    @Test("demo --port 0: every printed line says simulated; the printed stream, budget-cut, Python, usage and report commands work; SIGINT exits 0 and deletes its directory")
    func printedCommandsWorkAndCtrlCCleansUp() async throws {
        // Its pipes and child processes open and close file descriptors in this process: keep the tests that
        // count them (exclusive holders of the gate) from running meanwhile.
        await ProcessResourceGate.shared.enterShared()
        do { try await run() } catch {
            await ProcessResourceGate.shared.leaveShared()
            throw error
        }
        await ProcessResourceGate.shared.leaveShared()
    }

    private func run() async throws {
        let demo = try DemoProcess()
        defer { demo.kill() }
        let guide = try await demo.waitForGuide(timeout: .seconds(60))
        let lines = guide.split(separator: "\n").map(String.init)
        for line in lines { #expect(line.contains("simulated"), "a printed line does not say it is simulated: \(line)") }
        let commands = lines.filter { !$0.hasPrefix("[simulated]") }
        let streamCommand = try #require(commands.first { $0.hasPrefix("curl -N ") && $0.contains(#""model":"simulated-chat""#) })
        let cutCommand = try #require(commands.first { $0.hasPrefix("curl -N ") && $0.contains(#""model":"simulated-essay""#) })
        let pythonCommand = try #require(commands.first { $0.hasPrefix("python3 ") })
        let usageCommand = try #require(commands.first { $0.hasPrefix("curl ") && $0.contains("/v1/usage") })
        let reportCommand = try #require(commands.first { $0.contains(" report --db ") })
        let deletes = try #require(lines.last?.range(of: "deletes "))
        let directory = String(lines.last![deletes.upperBound...].dropLast())  // the sentence's full stop
        #expect(FileManager.default.fileExists(atPath: directory + "/ledger.sqlite"))

        // 1. The stream: many chunks, paced (30 ms before each), ending normally.
        let started = ContinuousClock.now
        let stream = try await shell(streamCommand)
        let elapsed = ContinuousClock.now - started
        #expect(stream.status == 0, "\(stream.stderr)")
        let streamChunks = try Self.chunks(stream.stdout)
        let answer = streamChunks.compactMap(Self.content).joined()
        #expect(answer.hasPrefix("[simulated] "), "\(stream.stdout)")
        let contentChunks = streamChunks.filter { Self.content($0)?.isEmpty == false }.count
        #expect(contentChunks >= 20)
        #expect(elapsed >= .milliseconds(30 * (contentChunks - 1)), "\(contentChunks) chunks in \(elapsed)")
        #expect(streamChunks.compactMap(Self.finishReason) == ["stop"])
        #expect(stream.stdout.hasSuffix("data: [DONE]\n\n"))

        // 2. The budget cut: the comment, finish_reason length and the marker, whose count matches the text.
        let cut = try await shell(cutCommand)
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(cut.stdout.contains("\n: tokenmeter: budget exhausted; "), "\(cut.stdout)")
        let cutChunks = try Self.chunks(cut.stdout)
        let last = try #require(cutChunks.last { Self.finishReason($0) != nil })
        #expect(Self.finishReason(last) == "length")
        #expect(last["tokenmeter"]?["cut_by_budget"]?.boolValue == true)
        let cutTokens = try #require(last["tokenmeter"]?["completion_tokens"]?.integerValue)
        let delivered = cutChunks.compactMap(Self.content).joined()
        #expect(delivered.hasPrefix("[simulated] "))
        #expect(try Encoding.named(.o200k_base).count(delivered) == cutTokens)
        #expect(cutTokens > 0 && cutTokens < 100, "cut mid-stream by the $0.00005 cap: \(cutTokens) tokens")

        // 3. The official OpenAI SDK prints the same answer as the stream.
        var requests = 2
        let sdk = try await shell("python3 -c 'import openai'")
        if sdk.status == 0 {
            let python = try await shell(pythonCommand)
            #expect(python.status == 0, "\(python.stderr)")
            #expect(python.stdout == answer + "\n")
            requests += 1
        } else {
            withKnownIssue("skipped: the openai SDK is not installed (make test installs it): \(sdk.stderr)") {
                Issue.record("openai SDK missing")
            }
        }

        // 4. Usage: every request billed to the demo user, the cut one at the marker's count.
        let usageRun = try await shell(usageCommand)
        let usage = try JSONParser.parse(usageRun.stdout)
        #expect(usage["user"]?.stringValue == "demo")
        #expect(usage["requests"]?.integerValue == requests, "\(usageRun.stdout)")
        let essay = try #require(usage["models"]?.arrayValue?.first { $0["model"]?.stringValue == "simulated-essay" })
        #expect(essay["completion_tokens"]?.integerValue == cutTokens)
        let report = try await shell(reportCommand)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("simulated-essay") && report.stdout.contains("demo"), "\(report.stdout)")

        // Ctrl-C: both servers stop, the directory goes, the exit is clean.
        let status = try await demo.interrupt(timeout: .seconds(30))
        #expect(status == 0, "\(demo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(demo.stdout.contains("deleted \(directory)\n"))
    }

    /// The JSON chunks of an SSE body, `[DONE]` and comments left out.
    static func chunks(_ body: String) throws -> [JSONValue] {
        try body.split(separator: "\n").compactMap { line -> JSONValue? in
            guard line.hasPrefix("data: "), line != "data: [DONE]" else { return nil }
            return try JSONParser.parse(String(line.dropFirst(6)))
        }
    }

    static func content(_ chunk: JSONValue) -> String? {
        chunk["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue
    }

    static func finishReason(_ chunk: JSONValue) -> String? {
        chunk["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue
    }
}

/// What a shell command printed and how it exited.
struct ShellResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `command` with `sh -c`, as a user pasting it would, without proxy variables (the printed commands
/// talk to 127.0.0.1). Killed after `timeout`, so a hung command fails the test instead of hanging it.
func shell(_ command: String, timeout: Duration = .seconds(30)) async throws -> ShellResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    process.environment = CLIRunner.inheritedEnvironment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds))) {
        if process.isRunning { process.terminate() }
    }
    // Both pipes at once, so neither can fill up while the other is read.
    async let stdout = offPool { out.fileHandleForReading.readDataToEndOfFile() }
    async let stderr = offPool { err.fileHandleForReading.readDataToEndOfFile() }
    let (o, e) = await (stdout, stderr)
    await offPool { process.waitUntilExit() }
    return ShellResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                       stderr: String(decoding: e, as: UTF8.self))
}

/// `tokenmeter demo --port 0` as a child process, its output collected as it comes.
final class DemoProcess: Sendable {
    private let process: Process
    private let output = Mutex((stdout: Data(), stderr: Data()))

    init() throws {
        process = Process()
        process.executableURL = CLIRunner.binary
        process.arguments = ["demo", "--port", "0"]
        process.environment = CLIRunner.inheritedEnvironment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        readUntilClosed(out.fileHandleForReading) { [self] data in output.withLock { $0.stdout += data } }
        readUntilClosed(err.fileHandleForReading) { [self] data in output.withLock { $0.stderr += data } }
        try process.run()
    }

    var stdout: String { String(decoding: output.withLock { $0.stdout }, as: UTF8.self) }
    var stderr: String { String(decoding: output.withLock { $0.stderr }, as: UTF8.self) }

    /// Waits until the guide's last line ("... Ctrl-C ... deletes DIR.") is out, and returns the guide.
    func waitForGuide(timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = stdout
            if text.contains("Ctrl-C"), text.hasSuffix(".\n") { return text }
            guard process.isRunning else { throw DemoProcessError.exited(status: process.terminationStatus, stderr: stderr) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DemoProcessError.noGuide(stdout: stdout, stderr: stderr)
    }

    /// Sends SIGINT (Ctrl-C) and returns the exit status, or throws when it has not exited by `timeout`.
    func interrupt(timeout: Duration) async throws -> Int32 {
        Foundation.kill(process.processIdentifier, SIGINT)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw DemoProcessError.stillRunning(stderr: stderr) }
            try await Task.sleep(for: .milliseconds(20))
        }
        // The last output may still be in the pipe after the exit.
        try await Task.sleep(for: .milliseconds(100))
        return process.terminationStatus
    }

    /// SIGKILL if still running (a failed test must not leave the servers behind).
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

enum DemoProcessError: Error {
    case exited(status: Int32, stderr: String)
    case noGuide(stdout: String, stderr: String)
    case stillRunning(stderr: String)
}
