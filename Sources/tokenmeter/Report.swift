import ArgumentParser
import Foundation
import TokenMeterLedger
import TokenMeterReports

/// `tokenmeter report`: a month's usage per user, per model and per day, as a table, CSV, JSON or a
/// self-contained HTML page with charts.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Monthly usage report (UTC calendar month): table, CSV, JSON or HTML with charts.",
        discussion: """
            Per user and per model: requests, tokens (local and provider-reported), cost, budget use and how \
            requests ended; totals and a daily series. The month in progress is marked partial. Column names \
            and the JSON schema are in docs/REPORTS.md.

            Examples:
              tokenmeter report
              tokenmeter report --month 2025-06 --format html --out june.html
              tokenmeter report --month 2025-06 --user ann --format csv

            Exit codes: 64 bad arguments (e.g. a month not in YYYY-MM form), 65 unknown user, 66 no ledger \
            database, 73 cannot write --out, 74 cannot read the ledger.
            """)

    @OptionGroup var options: LedgerOptions

    @Option(help: ArgumentHelp("The month, YYYY-MM, UTC (default: the current month).", valueName: "YYYY-MM"))
    var month: String?

    @Option(help: ArgumentHelp("Report only this user (case-insensitive).", valueName: "name"))
    var user: String?

    @Option(help: ArgumentHelp("Output format: table, csv, json or html (default: table; --json means json).",
                               valueName: "format"))
    var format: ReportFormat?

    @Option(help: ArgumentHelp("Write the report to this file instead of standard output.", valueName: "file"))
    var out: String?

    func validate() throws {
        if let month, BillingPeriod(parsing: month) == nil {
            throw ValidationError("'\(month)' is not a month: expected YYYY-MM with a month 01-12 and a year "
                                  + "1970-9999, e.g. 2025-06")
        }
        if options.json, let format, format != .json {
            throw ValidationError("--json conflicts with --format \(format.rawValue); give one of them")
        }
        if let out, out.isEmpty { throw ValidationError("--out needs a file name") }
    }

    func run() async throws {
        let period = month.flatMap(BillingPeriod.init(parsing:)) ?? BillingPeriod(containing: Date())
        let format = self.format ?? (options.json ? .json : .table)
        try await options.withLedger { store in
            let report = try await store.monthlyReport(for: period, userName: user)
            let text = format.render(report)
            guard let out else {
                FileHandle.standardOutput.write(Data(text.utf8))
                return
            }
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                printError("cannot write the report to \(out): \(error.localizedDescription)")
                throw ExitStatus.cannotCreate.exitCode
            }
        }
    }
}

extension ReportFormat: ExpressibleByArgument {}
