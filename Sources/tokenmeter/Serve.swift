import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TokenMeterLedger
import TokenMeterServer

/// `tokenmeter serve`: the OpenAI-compatible, budget-guarded gateway (docs/SERVER.md).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the metered OpenAI-compatible gateway (POST /v1/chat/completions).",
        discussion: """
            With no configuration the ledger is ./tokenmeter.sqlite, the server listens on 127.0.0.1:8080, \
            and requests go to OpenAI when OPENAI_API_KEY is set, otherwise to Ollama at \
            http://127.0.0.1:11434. A YAML file (--config) sets upstreams, model routes, limits and the admin \
            key; TOKENMETER_* environment variables override the file, and these options override both. \
            SIGTERM or SIGINT stops accepting, lets running streams finish for the shutdown grace, then cuts \
            and settles them.
            """
    )

    @Option(help: ArgumentHelp("YAML configuration file (see docs/SERVER.md).", valueName: "file"))
    var config: String?

    @Option(help: "Listen address (default 127.0.0.1).")
    var host: String?

    @Option(help: "Listen port (default 8080; 0 picks a free port).")
    var port: Int?

    @Option(help: ArgumentHelp(
        "Ledger: a SQLite file path, or postgres://user[:password]@host[:port]/database for a ledger several gateways share (default ./tokenmeter.sqlite).",
        valueName: "path-or-url"))
    var db: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String = "info"

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0-65535, got \(port)") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
    }

    func run() async throws {
        var configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
        } catch {
            StandardStreams.writeError("tokenmeter: error: \(error)\n")
            throw ExitStatus.configuration.exitCode
        }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let db { configuration.databasePath = db }

        var logger = Logger(label: "tokenmeter")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let upstreams = configuration.upstreams.map { "\($0.name) (\($0.baseURL))" }.joined(separator: ", ")
        let (listenHost, ledger) = (configuration.host, LedgerLocation(configuration.databasePath).description)
        let app: any ApplicationProtocol
        do {
            app = try await buildApplication(configuration, logger: logger) { port in
                StandardStreams.writeError("tokenmeter: serving on http://\(listenHost):\(port)/v1 → \(upstreams); ledger \(ledger)\n")
            }
        } catch let error as LedgerError {
            StandardStreams.writeError("tokenmeter: error: \(error)\n")
            throw error.exitStatus.exitCode
        }
        try await app.runService()
    }
}
