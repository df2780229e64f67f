import Foundation
import Testing
import TokenMeterLedger
import TokenMeterReports
import TokenMeterTestSupport

/// The headless Chromium of the machine, if there is one (Debian package `chromium`); `CHROMIUM=path` names
/// the one to use instead, and only that one.
let chromium: String? = {
    let candidates = ProcessInfo.processInfo.environment["CHROMIUM"].map { [$0] } ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// Skipped without Chromium in a plain `swift test`; a failure under `make test` (TestRequirement).
let chromiumRequirement = TestRequirement(isMet: chromium != nil, "headless Chromium (apt-get install chromium)")

@Suite("HTML report in a real browser", .enabled(if: chromiumRequirement.shouldRun, "needs headless Chromium (apt-get install chromium)"))
struct ChromiumRenderTests {
    /// Runs Chromium headless on `arguments`; returns its exit status and stderr (where console messages go).
    func runChromium(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
                             "--enable-logging=stderr", "--v=0"] + arguments
        // stderr (console messages, logging) goes to a file, so only one pipe needs draining.
        let errPath = directory.appendingPathComponent("chromium-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errPath.path, contents: nil)
        let err = try FileHandle(forWritingTo: errPath)
        defer { try? err.close() }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self),
                try String(contentsOf: errPath, encoding: .utf8))
    }

    @Test("renders with three visible charts, a screenshot and no console message")
    func rendersWithoutConsoleErrors() async throws {
        try chromiumRequirement.check()
        let ledger = try await makeScenario()
        let report = try await ledger.store.monthlyReport(for: february2028, userName: nil)
        let directory = ledger.directory.url
        let page = directory.appendingPathComponent("report.html")
        try Data(HTMLReportRenderer.render(report).utf8).write(to: page)

        let dom = try runChromium(["--dump-dom", page.absoluteString], in: directory)
        #expect(dom.status == 0)
        #expect(!dom.stderr.contains(":CONSOLE"), "\(dom.stderr)")
        #expect(dom.stdout.components(separatedBy: "<svg ").count == 4)
        #expect(dom.stdout.contains(report.totals.cost.description))

        let png = directory.appendingPathComponent("report.png")
        let shot = try runChromium(["--hide-scrollbars", "--window-size=1200,1600", "--screenshot=\(png.path)",
                                    page.absoluteString], in: directory)
        #expect(shot.status == 0)
        #expect(!shot.stderr.contains(":CONSOLE"), "\(shot.stderr)")
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(bytes.count > 20_000) // a blank page compresses to a few KB
        // To look at the page: TOKENMETER_REPORT_SNAPSHOT_DIR=/tmp/x swift test --filter ChromiumRenderTests
        if let keep = ProcessInfo.processInfo.environment["TOKENMETER_REPORT_SNAPSHOT_DIR"] {
            let target = URL(fileURLWithPath: keep)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            for file in [page, png] {
                let copy = target.appendingPathComponent(file.lastPathComponent)
                try? FileManager.default.removeItem(at: copy)
                try FileManager.default.copyItem(at: file, to: copy)
            }
        }
    }
}
