import ArgumentParser
import Foundation
import TokenMeterLedger

/// `tokenmeter ledger`: whole-ledger operations.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Operate on a whole ledger (copy it between SQLite and PostgreSQL).",
        subcommands: [Copy.self]
    )

    /// `tokenmeter ledger copy --from A --to B`.
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy users, budgets, keys and usage records into an empty ledger, and verify the sums.",
            discussion: """
                Either side is a SQLite file path or a postgres://user[:password]@host[:port]/database URL; the \
                usual move is from the embedded SQLite file to a PostgreSQL database that several gateways share \
                (docs/DEPLOYMENT.md). Ids are kept, so every record still points at its user and key, and keys keep \
                working. The destination must have no users (a new SQLite file is created). The source must have no \
                open reservations: stop its gateway first. After the copy, the number of users, keys and records and, \
                per user, the requests, billed tokens, cost, estimated and overrun amounts are compared between the \
                two ledgers, over the records and over the monthly rollups; any difference fails the command.
                """
        )

        @Option(help: ArgumentHelp("The ledger to copy from (path or postgres:// URL).", valueName: "path-or-url"))
        var from: String

        @Option(help: ArgumentHelp("The empty ledger to copy into (path or postgres:// URL).", valueName: "path-or-url"))
        var to: String

        @Flag(help: "Print the verified sums as JSON.")
        var json = false

        func validate() throws {
            if LedgerLocation(from) == LedgerLocation(to) { throw ValidationError("--from and --to name the same ledger") }
        }

        func run() async throws {
            try await LedgerOptions.reportingErrors {
                let source = try await LedgerOptions.openLedger(from)
                let destination: any GatewayLedger
                do { destination = try await LedgerOptions.openLedger(to, creating: true) } catch {
                    try? await source.close()
                    throw error
                }
                let outcome: LedgerCopy.Outcome
                do {
                    outcome = try await LedgerCopy.run(from: source, to: destination) { copied in
                        if copied % 100_000 == 0 { printError("copied \(copied) records…") }
                    }
                } catch {
                    try? await source.close()
                    try? await destination.close()
                    throw error
                }
                try await source.close()
                try await destination.close()
                let sums = outcome.destination
                if json {
                    print("""
                        {"users": \(sums.users), "keys": \(sums.keys), "revoked_keys": \(sums.revokedKeys), \
                        "records": \(sums.recordCount), "billed_tokens": \(sums.totalBilledTokens), \
                        "cost_picousd": \(sums.totalCost.picoUSD), "verified": true}
                        """)
                } else {
                    print("copied \(sums) from \(LedgerLocation(from)) to \(LedgerLocation(to)); sums verified per user")
                }
            }
        }
    }
}
