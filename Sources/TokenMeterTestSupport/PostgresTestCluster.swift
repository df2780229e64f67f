import Foundation
import Synchronization

/// The PostgreSQL server the ledger's PostgreSQL tests share, named by `TOKENMETER_TEST_POSTGRES`
/// (`postgres://user@host:port/database`). `make test` (scripts/run-tests.sh) starts a private cluster for the run,
/// sets it, and sets `TOKENMETER_TEST_POSTGRES_BIN` to the directory holding that PostgreSQL's `psql`.
///
/// Tests on the shared server each work in a database of their own from ``freshDatabase(_:on:)``, so suites run
/// in parallel without seeing each other's rows. A test that stops or restarts the server uses a
/// ``PrivatePostgresCluster`` instead. The functions block while `psql` runs (a few milliseconds).
public enum PostgresTestCluster {
    /// The shared server: `TOKENMETER_TEST_POSTGRES`, or nil when it is unset or empty.
    public static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["TOKENMETER_TEST_POSTGRES"], !url.isEmpty else { return nil }
        return url
    }

    /// Met when ``url`` names a server. A test needing it uses `.enabled(if: requirement.shouldRun, …)` and
    /// `try requirement.check()`, like any ``TestRequirement``.
    public static var requirement: TestRequirement {
        TestRequirement(isMet: url != nil, "a PostgreSQL server (make test starts one; or set TOKENMETER_TEST_POSTGRES=postgres://…)")
    }

    /// Creates an empty database with a new name on `server` (the shared server when nil) and returns its URL:
    /// the same scheme, user, host, port and options, with the new database's name as the path. The name is `tm_`,
    /// then `label` lowercased with anything but ASCII letters and digits turned into `_` (at most 40 characters),
    /// then `_` and 12 random hex digits. The database is a copy of `template0`, so nothing added to `template1`
    /// on a server that is not ours ends up in it.
    public static func freshDatabase(_ label: String, on server: String? = nil) throws -> String {
        guard let server = server ?? url else {
            throw PostgresTestError("no PostgreSQL server: TOKENMETER_TEST_POSTGRES is not set (make test sets it)")
        }
        let name = databaseName(label)
        let databaseURL = try replacingDatabase(of: server, with: name)
        try runPsql(server, "CREATE DATABASE \"\(name)\" TEMPLATE template0")
        return databaseURL
    }

    /// Drops the database `url` names, disconnecting any session still in it (`WITH (FORCE)`), and ignores any
    /// failure: a database left behind on the cluster `make test` starts goes when the cluster does. It connects
    /// to the shared server's database when `url` is on that server (same host, port and user), else to the
    /// `postgres` database.
    public static func dropDatabase(url: String) {
        guard let components = URLComponents(string: url), let name = databaseName(of: components) else { return }
        var maintenance = try? replacingDatabase(of: url, with: "postgres")
        if let shared = Self.url, let sharedComponents = URLComponents(string: shared),
           sharedComponents.host == components.host, sharedComponents.port == components.port,
           sharedComponents.user == components.user {
            maintenance = shared
        }
        guard let maintenance, databaseName(of: URLComponents(string: maintenance)) != name else { return }
        let quoted = name.replacingOccurrences(of: "\"", with: "\"\"")
        try? runPsql(maintenance, "DROP DATABASE IF EXISTS \"\(quoted)\" WITH (FORCE)")
    }

    /// `tm_<label>_<12 hex digits>`: a legal unquoted identifier of at most 56 bytes (PostgreSQL allows 63).
    static func databaseName(_ label: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789")
        let safe = String(label.lowercased().prefix(40).map { allowed.contains($0) ? $0 : "_" })
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        return "tm_\(safe)_\(suffix)"
    }

    /// `url` with its path (the database) replaced by `database`.
    static func replacingDatabase(of url: String, with database: String) throws -> String {
        guard var components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
              components.host != nil else {
            throw PostgresTestError("not a postgres://user@host:port/database URL: \(url)")
        }
        components.path = "/" + database
        guard let result = components.string else { throw PostgresTestError("cannot put database \(database) into \(url)") }
        return result
    }

    private static func databaseName(of components: URLComponents?) -> String? {
        guard let path = components?.path, path.count > 1 else { return nil }
        return String(path.dropFirst())
    }

    /// The rows of one query run with `psql` against the database `url`, each a list of columns (nil for NULL), for
    /// tests that read what a server wrote without a database client of their own.
    public static func query(_ url: String, _ sql: String) throws -> [[String?]] {
        var environment = ProcessInfo.processInfo.environment
        environment["PGCONNECT_TIMEOUT"] = environment["PGCONNECT_TIMEOUT"] ?? "10"
        let null = "\u{1}NULL", field = "\u{1f}"
        let output = try TestCommand.run(psqlPath(), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-P", "null=\(null)",
                                                      "-F", field, "-d", url, "-c", sql],
                                         environment: environment, timeout: 60)
        return output.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            line.components(separatedBy: field).map { $0 == null ? nil : $0 }
        }
    }

    /// Runs one SQL command with `psql` against `server`.
    private static func runPsql(_ server: String, _ sql: String) throws {
        var environment = ProcessInfo.processInfo.environment
        // A server that does not answer fails the test in seconds instead of hanging it.
        environment["PGCONNECT_TIMEOUT"] = environment["PGCONNECT_TIMEOUT"] ?? "10"
        _ = try TestCommand.run(psqlPath(), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server, "-c", sql],
                                environment: environment, timeout: 60)
    }

    /// `psql` from `TOKENMETER_TEST_POSTGRES_BIN` (the PostgreSQL make test started), else the first on `PATH`.
    static func psqlPath() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let fileManager = FileManager.default
        if let bin = environment["TOKENMETER_TEST_POSTGRES_BIN"], !bin.isEmpty {
            let path = bin + "/psql"
            if fileManager.isExecutableFile(atPath: path) { return path }
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let path = String(directory) + "/psql"
            if fileManager.isExecutableFile(atPath: path) { return path }
        }
        throw PostgresTestError("psql is in neither TOKENMETER_TEST_POSTGRES_BIN nor PATH; install postgresql-client: apt-get install postgresql-client")
    }
}

/// A PostgreSQL cluster of one test's own, for a test that stops or restarts the server while the other suites
/// keep using the shared one (``PostgresTestCluster``). `scripts/pg-cluster.sh` creates it in a new temporary
/// directory and starts it on a free port of 127.0.0.1 (as the `postgres` user when the tests run as root);
/// ``url`` reaches its `postgres` database as user `postgres` without a password. It keeps its port across
/// ``stop()``/``start()`` and ``restart()``, so clients reconnect to the same URL.
///
/// ``shutDown()``, or releasing the value, stops it and deletes the directory. Every method blocks while the
/// script runs: about a second to create and start a cluster, a fraction of one to stop or restart it.
public final class PrivatePostgresCluster: Sendable {
    /// The cluster's directory: the data directory `data`, the server log `log`, the port in `port`.
    public let directory: URL
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    public let url: String
    /// The port on 127.0.0.1 it listens on.
    public let port: Int
    private let isShutDown = Mutex(false)

    /// Met when this machine has PostgreSQL's server programs (the script finds them in the newest
    /// `/usr/lib/postgresql/*/bin`, or in `PG_BIN`).
    public static let requirement = TestRequirement(
        isMet: (try? TestCommand.run(script.path, ["bin"], timeout: 30)) != nil,
        "PostgreSQL's server programs, to start a private cluster (apt-get install postgresql)")

    /// `scripts/pg-cluster.sh` of the checkout these tests were built from (two levels above this file's directory).
    public static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/pg-cluster.sh")

    /// Creates a cluster in a new temporary directory and starts it; on failure deletes the directory and throws
    /// what the script reported.
    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.script.path) else {
            throw PostgresTestError("\(Self.script.path) is missing or not executable")
        }
        // Short: the server's Unix socket lives in it, and a socket path has at most 107 bytes.
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tm-pg-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            let output = try TestCommand.run(Self.script.path, ["start", directory.path], timeout: 120)
            let portText = try String(contentsOf: directory.appendingPathComponent("port"), encoding: .utf8)
            guard let url = output.split(separator: "\n").last.map(String.init), let port = Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw PostgresTestError("pg-cluster.sh start \(directory.path) printed no URL or wrote no port: \(output)")
            }
            self.directory = directory
            self.url = url
            self.port = port
        } catch {
            _ = try? TestCommand.run(Self.script.path, ["stop", directory.path], timeout: 60)
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Stops the server (a fast shutdown: sessions are ended, a checkpoint written); nothing happens when it is
    /// not running.
    public func stop() throws { try script("stop", timeout: 60) }

    /// Starts the stopped server again on the same port; nothing happens when it is running. Throws when another
    /// process took the port meanwhile.
    public func start() throws { try script("start", timeout: 60) }

    /// Stops the server at once, as a crash would (an immediate shutdown: no checkpoint, clients cut off), and
    /// starts it again on the same port; it replays its write-ahead log before it accepts connections.
    public func restart() throws { try script("restart", timeout: 60) }

    /// Stops the server and deletes its directory. Later calls, and ``stop()``, ``start()`` and ``restart()``
    /// after it, do nothing or throw; releasing the value calls it.
    public func shutDown() {
        let first = isShutDown.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        _ = try? TestCommand.run(Self.script.path, ["stop", directory.path], timeout: 60)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { shutDown() }

    private func script(_ command: String, timeout: TimeInterval) throws {
        guard !isShutDown.withLock({ $0 }) else {
            throw PostgresTestError("the private PostgreSQL cluster in \(directory.path) was shut down")
        }
        _ = try TestCommand.run(Self.script.path, [command, directory.path], timeout: timeout)
    }
}

/// A PostgreSQL test helper failed: which command, and what it said.
public struct PostgresTestError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// A failure described by `description`.
    public init(_ description: String) { self.description = description }
}

/// Runs a command to completion, its output in files (a server it starts may keep pipes open long after it
/// exits).
enum TestCommand {
    /// Runs `executable` with `arguments` and returns its standard output. Throws ``PostgresTestError`` naming
    /// the command with its exit status and standard error when it fails, or when it runs longer than `timeout`
    /// seconds (it is then sent SIGTERM).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeout: TimeInterval) throws -> String {
        let scratch = try TemporaryDirectory(label: "command")
        let outputPath = scratch.path("stdout"), errorPath = scratch.path("stderr")
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
              FileManager.default.createFile(atPath: errorPath, contents: nil) else {
            throw PostgresTestError("could not create output files in \(scratch.url.path)")
        }
        let outputFile = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer {
            try? outputFile.close()
            try? errorFile.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outputFile
        process.standardError = errorFile
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let commandLine = ([executable] + arguments).joined(separator: " ")
        do {
            try process.run()
        } catch {
            throw PostgresTestError("could not run \(commandLine): \(error)")
        }
        let timedOut = exited.wait(timeout: .now() + timeout) == .timedOut
        if timedOut {
            process.terminate()
            _ = exited.wait(timeout: .now() + 5)
        }

        let standardOutput = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let standardError = ((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if timedOut {
            throw PostgresTestError("\(commandLine) did not finish within \(Int(timeout)) s; its standard error: \(standardError)")
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exit status \(process.terminationStatus)" : "signal \(process.terminationStatus)"
            throw PostgresTestError("\(commandLine) failed (\(how)): \(standardError.isEmpty ? "no output on standard error" : standardError)")
        }
        return standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
