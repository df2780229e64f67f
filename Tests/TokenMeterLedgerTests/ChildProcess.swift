import Foundation
import TokenMeterTestSupport
import Synchronization
import Testing

/// A built executable of this package run as a child process, with its stdout collected line by line.
/// Tests locate products next to the test binary (`.build/<triple>/debug/`); they build nothing.
final class ChildProcess: Sendable {
    let process: Process
    private let lines = Mutex<[String]>([])
    private let partial = Mutex<String>("")

    /// The directory holding the package's built products.
    static var productsDirectory: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // On Darwin the test binary sits inside a .xctest bundle.
        while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("ledger-crash-helper").path) { return dir }
        // Fallback: the package root from this file's path.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }

    /// Starts `product` with `arguments`.
    init(_ product: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let url = Self.productsDirectory.appendingPathComponent(product)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw ChildProcessError.notBuilt(url.path)
        }
        process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        readUntilClosed(out.fileHandleForReading) { [weak self] data in
            guard let self else { return }
            let complete: [String] = self.partial.withLock { buffer in
                buffer += String(decoding: data, as: UTF8.self)
                var parts = buffer.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                buffer = parts.removeLast()
                return parts
            }
            self.lines.withLock { $0 += complete }
        }
        try process.run()
    }

    /// Lines printed so far.
    var output: [String] { lines.withLock { $0 } }

    /// Waits until a line equals `line`, or fails after `timeout`.
    func waitForLine(_ line: String, timeout: Duration = .seconds(60)) async throws {
        try await waitForLine(where: { $0 == line }, described: line, timeout: timeout)
    }

    /// Waits until a line satisfies `predicate`, or fails after `timeout`.
    func waitForLine(where predicate: (String) -> Bool, described line: String,
                     timeout: Duration = .seconds(60)) async throws {
        let start = ContinuousClock.now
        while !output.contains(where: predicate) {
            guard process.isRunning else { throw ChildProcessError.exited(process.terminationStatus, output) }
            guard ContinuousClock.now - start < timeout else { throw ChildProcessError.timeout(line, output) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends SIGKILL and waits for the process to be gone.
    func kill() async throws {
        Foundation.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGKILL)
    }
}

enum ChildProcessError: Error, CustomStringConvertible {
    case notBuilt(String)
    case exited(Int32, [String])
    case timeout(String, [String])

    var description: String {
        switch self {
        case .notBuilt(let path): "\(path) is not built; run `swift build --build-tests` first"
        case .exited(let status, let out): "child exited with status \(status); output: \(out.suffix(5))"
        case .timeout(let line, let out): "no '\(line)' line in time; output: \(out.suffix(5))"
        }
    }
}
