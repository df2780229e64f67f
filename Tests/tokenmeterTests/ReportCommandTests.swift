import Foundation
import Synchronization
import Testing
import TokenMeterLedger
import TokenMeterMoney

@Suite("tokenmeter report (the built binary as a subprocess)")
struct ReportCommandTests {
    /// Writes, through the ledger API with a clock in June 2025, ann (budget $2) with three requests and
    /// bob (no budget) with one, plus one request of ann in July; returns the June total.
    func fillLedger(_ cli: CLIRunner) async throws -> Money {
        let clock = Mutex(Date(timeIntervalSince1970: 1_748_736_000)) // 2025-06-01T00:00:00Z
        var config = SQLiteUsageStore.Configuration()
        config.role = .administration
        config.now = { clock.withLock { $0 } }
        let store = try SQLiteUsageStore(path: cli.database, configuration: config)
        let ann = try await store.addUser(name: "ann", budget: Budget(monthlyLimit: try Money(parsing: "2")))
        let bob = try await store.addUser(name: "bob", budget: .unlimited)
        var total = Money.zero
        let requests: [(User, String, TimeInterval, Int64, Int64, Int64)] = [
            (ann, "gpt-4o-mini", 1_748_800_000, 1_000, 200, 150_001),
            (ann, "gpt-4o", 1_749_900_000, 3_000, 1_000, 2_500_003),
            (ann, "gpt-4o", 1_751_327_999.999, 10, 1, 2_500_003), // 2025-06-30T23:59:59.999Z
            (bob, "gpt-4o-mini", 1_750_000_000, 77, 7, 150_001),
            (ann, "gpt-4o", 1_751_328_000, 5, 5, 2_500_003), // 2025-07-01T00:00:00.000Z: July
        ]
        for (i, (user, model, at, prompt, completion, price)) in requests.enumerated() {
            let key = try await store.createAPIKey(userID: user.id)
            clock.withLock { $0 = Date(timeIntervalSince1970: at - 1) }
            let r = try await store.reserve(ReservationRequest(
                requestID: "r\(i)", userID: user.id, apiKeyID: key.info.id, model: model, upstream: "openai",
                estimate: UsageEstimate(cost: .zero, tokens: 0)))
            clock.withLock { $0 = Date(timeIntervalSince1970: at) }
            let usage = MeteredUsage(promptTokens: prompt, completionTokens: completion,
                                     cost: Money(picoUSD: (prompt + completion) * price))
            _ = try await store.settle(r, usage: usage, status: .completed)
            if i < 4 { total += usage.cost }
        }
        return total
    }

    @Test("CSV: header, one row per user-model pair, costs that add up to the ledger's June total")
    func csv() async throws {
        let cli = try CLIRunner()
        let total = try await fillLedger(cli)
        let result = try cli.ledger("report", "--month", "2025-06", "--format", "csv")
        #expect(result.status == 0, "\(result.stderr)")
        var lines = result.stdout.components(separatedBy: "\r\n")
        #expect(lines.removeLast() == "")
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        #expect(header.prefix(5) == ["month", "user", "user_status", "model", "requests"])
        let cost = try #require(header.firstIndex(of: "cost_usd"))
        #expect(lines.count == 3)
        #expect(try lines.reduce(Money.zero) { $0 + (try Money(parsing: String($1.split(separator: ",", omittingEmptySubsequences: false)[cost]))) } == total)
        #expect(lines.contains { $0.hasPrefix("2025-06,ann,active,gpt-4o,2,") })

        let bob = try cli.ledger("report", "--month", "2025-06", "--format", "csv", "--user", "BOB")
        #expect(bob.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2)
        #expect(bob.stdout.contains("\r\n2025-06,bob,active,gpt-4o-mini,1,77,7,"))
    }

    @Test("JSON (--format json and --json) carries the exact total; --out writes HTML to a file, not stdout")
    func jsonAndHTML() async throws {
        let cli = try CLIRunner()
        let total = try await fillLedger(cli)
        for flag in [["--format", "json"], ["--json"]] {
            let result = try cli.run(["report", "--month", "2025-06", "--db", cli.database] + flag)
            #expect(result.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])
            #expect(json["schema"] as? String == "tokenmeter.monthly-report/1")
            #expect((json["totals"] as? [String: Any])?["cost_usd"] as? String == total.decimalString)
            #expect((json["days"] as? [Any])?.count == 30)
        }
        let file = cli.directory.appendingPathComponent("june.html").path
        let html = try cli.ledger("report", "--month", "2025-06", "--format", "html", "--out", file)
        #expect(html.status == 0)
        #expect(html.stdout.isEmpty)
        let page = try String(contentsOfFile: file, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<div class=\"value\">\(total)</div>"))
        #expect(page.components(separatedBy: "<svg ").count == 4)
    }

    @Test("table is the default format; without --month the current UTC month is reported, marked partial")
    func defaults() async throws {
        let cli = try CLIRunner()
        let total = try await fillLedger(cli)
        let june = try cli.ledger("report", "--month", "2025-06")
        #expect(june.status == 0)
        #expect(june.stdout.hasPrefix("TokenMeter usage report for 2025-06 (calendar month, UTC)\n"))
        #expect(june.stdout.contains("Totals:    4 requests, "))
        #expect(june.stdout.contains(total.description))
        let now = try cli.ledger("report")
        #expect(now.status == 0)
        #expect(now.stdout.hasPrefix("TokenMeter usage report for \(BillingPeriod(containing: Date())) "))
        #expect(now.stdout.contains("Coverage:  partial: month in progress, data to "))
    }

    @Test("errors: bad month 64, --json with --format csv 64, unknown user 65, no database 66, unwritable --out 73")
    func errors() async throws {
        let cli = try CLIRunner()
        _ = try await fillLedger(cli)
        for month in ["2025-13", "June", "2025-6", "1969-12"] {
            let bad = try cli.ledger("report", "--month", month)
            #expect(bad.status == 64, "\(month)")
            #expect(bad.stderr.contains("'\(month)' is not a month: expected YYYY-MM"))
            #expect(bad.stdout.isEmpty)
        }
        #expect(try cli.ledger("report", "--json", "--format", "csv").status == 64)
        #expect(try cli.ledger("report", "--format", "pdf").status == 64)
        let unknown = try cli.ledger("report", "--user", "zed")
        #expect(unknown.status == 65)
        #expect(unknown.stderr == "tokenmeter: no user named 'zed' (see `tokenmeter users list`)\n")
        let missing = try cli.run(["report", "--db", cli.directory.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 66)
        let unwritable = try cli.ledger("report", "--out", "/nonexistent-dir/r.html", "--format", "html")
        #expect(unwritable.status == 73)
        #expect(unwritable.stderr.contains("cannot write the report to /nonexistent-dir/r.html"))
    }
}
