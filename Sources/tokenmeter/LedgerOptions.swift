import ArgumentParser
import Foundation
import TokenMeterLedger
import TokenMeterJSON

/// Options shared by every ledger command: where the database is, and the output format.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The ledger: a SQLite file path or a postgres://user[:password]@host[:port]/database URL (default: $TOKENMETER_DB, else ./tokenmeter.sqlite).",
        valueName: "path-or-url"))
    var db: String?

    @Flag(name: .long, help: "Print JSON for scripts instead of tables for people.")
    var json = false

    /// The database path: `--db`, else `TOKENMETER_DB`, else `./tokenmeter.sqlite`.
    var databasePath: String {
        if let db { return db }
        if let env = ProcessInfo.processInfo.environment["TOKENMETER_DB"], !env.isEmpty { return env }
        return "./tokenmeter.sqlite"
    }

    /// Opens the ledger beside possibly running servers (administration role: no lock, no instance, no
    /// recovery). Only commands that create data pass `creating: true`; the others refuse a missing SQLite file
    /// (a PostgreSQL database must exist; its tables are created on first use).
    static func openLedger(_ text: String, creating: Bool = false) async throws -> any GatewayLedger {
        switch LedgerLocation(text) {
        case .sqlite(let path):
            var configuration = SQLiteUsageStore.Configuration()
            configuration.role = .administration
            configuration.createIfMissing = creating
            return try SQLiteUsageStore(path: path, configuration: configuration)
        case .postgres(let url):
            var configuration = PostgresUsageStore.Configuration()
            configuration.role = .administration
            configuration.maximumConnections = 2
            return try await PostgresUsageStore.open(url: url, configuration: configuration)
        }
    }

    /// Runs `body` with the opened ledger and closes it; a ``LedgerError`` is printed to stderr and becomes its
    /// sysexits code.
    func withLedger(creating: Bool = false, _ body: (any GatewayLedger) async throws -> Void) async throws {
        try await Self.reportingErrors {
            let store = try await Self.openLedger(databasePath, creating: creating)
            do { try await body(store) } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }

    /// Runs `body`; a ``LedgerError`` is printed to stderr and becomes its sysexits code.
    static func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as LedgerError {
            printError(error.description)
            throw error.exitStatus.exitCode
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("internal error: \(error)")
            throw ExitStatus.software.exitCode
        }
    }

    /// Prints `value` as pretty JSON on stdout (the views of ``LedgerJSON``, shared with the admin API).
    func printJSON(_ value: JSONValue) {
        print(value.prettyJSON())
    }
}

/// Writes `message` to stderr, prefixed with `tokenmeter: `.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("tokenmeter: \(message)\n".utf8))
}
