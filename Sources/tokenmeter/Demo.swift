import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TokenMeterLedger
import TokenMeterServer
import TokenMeterSimulatedUpstream

/// `tokenmeter demo`: the real gateway on a temporary ledger in front of the built-in simulated upstream,
/// with a demo user on a small budget, and commands that show a stream, a budget cut and a report.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Try the gateway in a minute: a simulated upstream, a temporary ledger and a demo user.",
        discussion: """
            Needs no model, API key or network. Starts the simulated upstream (canned answers for the models \
            \(DemoSetup.chatModel) and \(DemoSetup.essayModel)) on a free 127.0.0.1 port, and the gateway on \
            127.0.0.1:PORT with a new ledger in a temporary directory. Adds the user "\(DemoSetup.userName)" \
            (at most \(DemoSetup.maxRequestCost) a request, \(DemoSetup.monthlyLimit) a month) with a key, and \
            prints curl and Python commands that show a stream, a budget cut and the usage report. Ctrl-C stops \
            both servers and deletes the temporary directory. `tokenmeter serve` never uses the simulated upstream.
            """)

    @Option(help: "Gateway port on 127.0.0.1 (default 8080; 0 picks a free port).")
    var port: Int = 8080

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String = "info"

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0-65535, got \(port)") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
    }

    func run() async throws {
        let directory = try Self.makeDirectory()
        do {
            let upstream: SimulatedUpstream
            do {
                upstream = try await SimulatedUpstream.start(recording: false)
            } catch {
                throw CLIFailure(.unavailable, "the simulated upstream could not listen on 127.0.0.1: \(error)").report()
            }
            do {
                try await serve(in: directory, upstream: upstream)
            } catch {
                try? await upstream.shutdown()
                throw error
            }
            try? await upstream.shutdown()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        do {
            try FileManager.default.removeItem(atPath: directory)
        } catch {
            throw CLIFailure(.ioError, "stopped, but could not delete \(directory): \(error.localizedDescription)").report()
        }
        StandardStreams.writeUnbuffered("\(DemoGuide.tag) stopped the gateway and the simulated upstream; deleted \(directory)\n")
    }

    /// Creates the ledger and the catalog file in `directory`, then runs the gateway until Ctrl-C.
    private func serve(in directory: String, upstream: SimulatedUpstream) async throws {
        DemoSetup.configure(upstream)
        let ledgerPath = directory + "/ledger.sqlite"
        let catalogPath = directory + "/simulated-models.json"
        do {
            try DemoSetup.catalogJSON.write(toFile: catalogPath, atomically: true, encoding: .utf8)
        } catch {
            throw CLIFailure(.cannotCreate, "cannot write \(catalogPath): \(error.localizedDescription)").report()
        }
        let key = try await Self.addDemoUser(ledgerPath: ledgerPath)

        var configuration = ServerConfiguration(upstreams: [
            UpstreamConfiguration(name: "simulated", baseURL: upstream.openAIBaseURL, provider: .openAICompatible),
        ])
        configuration.port = port
        configuration.databasePath = ledgerPath
        configuration.catalogPath = catalogPath
        // Ctrl-C should end the demo at once, not wait out the production grace for running streams.
        configuration.shutdownGrace = .seconds(1)
        // A fresh admin key per demo turns the console on; it dies with the temporary ledger.
        let adminKey = "tm_admin_" + (0..<24).map { _ in String("abcdefghijkmnpqrstuvwxyz23456789".randomElement()!) }.joined()
        configuration.adminKey = adminKey
        // The label is on every log line, so the log, too, says the upstream is simulated.
        var logger = Logger(label: "tokenmeter demo, simulated upstream")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        let guide = DemoGuide(gatewayURL: "", upstreamURL: upstream.openAIBaseURL, directory: directory,
                              ledgerPath: ledgerPath, key: key, adminKey: adminKey, executable: CommandLine.arguments[0])
        let app = try await buildApplication(configuration, logger: logger) { port in
            var guide = guide
            guide.gatewayURL = "http://127.0.0.1:\(port)/v1"
            StandardStreams.writeUnbuffered(guide.text)
        }
        // SIGINT through InterruptWatch, not the service group's own signal handling, which can lose a Ctrl-C
        // (docs/ROBUSTNESS.md); SIGTERM stays with the service group, as in `serve`.
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm], logger: logger))
        let interrupt = InterruptWatch { Task { await group.triggerGracefulShutdown() } }
        defer { interrupt.cancel() }
        do {
            try await group.run()
        } catch {
            throw CLIFailure(.unavailable, """
                the demo gateway stopped: \(error). If port \(port) is in use, pick another with --port N, \
                or --port 0 for any free port.
                """).report()
        }
    }

    /// A new directory `$TMPDIR/tokenmeter-demo-XXXXXX`, readable by this user only.
    private static func makeDirectory() throws -> String {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array((base + "/tokenmeter-demo-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CLIFailure(.cannotCreate, "cannot create a temporary directory in \(base): \(String(cString: strerror(errno)))")
                .report()
        }
        return String(cString: made)
    }

    /// Creates the ledger with the demo user and a key, and returns the key. The ledger is closed again
    /// before the gateway opens it as its owner.
    private static func addDemoUser(ledgerPath: String) async throws -> String {
        do {
            var administration = SQLiteUsageStore.Configuration()
            administration.role = .administration
            let store = try SQLiteUsageStore(path: ledgerPath, configuration: administration)
            let user = try await store.addUser(name: DemoSetup.userName, budget: DemoSetup.budget)
            let key = try await store.createAPIKey(userID: user.id).key
            try await store.close()
            return key
        } catch let error as LedgerError {
            printError(error.description)
            throw error.exitStatus.exitCode
        } catch {
            throw CLIFailure(.software, "cannot set up the demo ledger: \(error)").report()
        }
    }
}
