import ArgumentParser
import Foundation
import TokenMeterLedger
import TokenMeterJSON

/// Options shared by every ledger command: where the database is, and the output format.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Path of the ledger database (default: $TOKENMETER_DB, else ./tokenmeter.sqlite).", valueName: "path"))
    var db: String?

    @Flag(name: .long, help: "Print JSON for scripts instead of tables for people.")
    var json = false

    /// The database path: `--db`, else `TOKENMETER_DB`, else `./tokenmeter.sqlite`.
    var databasePath: String {
        if let db { return db }
        if let env = ProcessInfo.processInfo.environment["TOKENMETER_DB"], !env.isEmpty { return env }
        return "./tokenmeter.sqlite"
    }

    /// Opens the ledger beside a possibly running server (administration role: no lock, no recovery).
    /// Only commands that create data pass `creating: true`; the others refuse a missing file.
    func openLedger(creating: Bool = false) throws(LedgerError) -> SQLiteUsageStore {
        var configuration = SQLiteUsageStore.Configuration()
        configuration.role = .administration
        configuration.createIfMissing = creating
        return try SQLiteUsageStore(path: databasePath, configuration: configuration)
    }

    /// Runs `body` with the opened ledger; a ``LedgerError`` is printed to stderr and becomes its sysexits
    /// code.
    func withLedger(creating: Bool = false, _ body: (SQLiteUsageStore) async throws -> Void) async throws {
        do {
            try await body(try openLedger(creating: creating))
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
