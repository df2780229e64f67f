import Foundation

/// Runs the built `tokenmeter` binary (found next to the test binary; tests build nothing) in a fresh
/// temporary directory and captures its output and exit status.
final class CLIRunner: Sendable {
    /// What one run printed and how it exited.
    struct Result {
        var status: Int32
        var stdoutData: Data
        var stderr: String
        var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    }

    let directory: URL
    var database: String { directory.appendingPathComponent("ledger.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tm-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// This process's environment without proxy variables. The client tests set `http_proxy` for the
    /// whole process while other suites run (EnvironmentTests); a CLI started meanwhile must still talk
    /// to its own 127.0.0.1 upstream directly (docs/ROBUSTNESS.md).
    static var inheritedEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
    }

    static var binary: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
        let candidate = dir.appendingPathComponent("tokenmeter")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/tokenmeter")
    }

    /// Runs `tokenmeter ARGS` in the temporary directory with `--db` unset unless given,
    /// `TOKENMETER_DB` set to `environmentDB` when not nil, `stdin` as standard input (empty when
    /// nil) and `environment` added to the inherited environment (proxy variables left out).
    func run(_ args: [String], environmentDB: String? = nil, stdin: Data? = nil,
             environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = args
        process.currentDirectoryURL = directory
        var env = Self.inheritedEnvironment.merging(environment) { _, new in new }
        env["TOKENMETER_DB"] = environmentDB
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // A command that exits before reading its input (a usage error) must not kill the test process with
        // SIGPIPE; the write then just fails.
        signal(SIGPIPE, SIG_IGN)
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdoutData: stdout,
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs with `--db` pointing at this runner's database.
    func ledger(_ args: String...) throws -> Result {
        try run(args + ["--db", database])
    }
}
