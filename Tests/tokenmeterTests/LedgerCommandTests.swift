import Foundation
import Testing
import TokenMeterLedger
import TokenMeterMoney

@Suite("tokenmeter users/keys (the built binary as a subprocess)")
struct LedgerCommandTests {
    @Test("users add, show and list print the budget and month; --json is exact decimal USD")
    func addShowList() throws {
        let cli = try CLIRunner()
        let add = try cli.ledger("users", "add", "ann", "--monthly-usd", "12.50", "--monthly-tokens", "1000000")
        #expect(add.status == 0)
        #expect(add.stdout == "added user ann ($12.50 per month, 1,000,000 tokens per month)\n")

        let show = try cli.ledger("users", "show", "ANN")
        #expect(show.status == 0)
        #expect(show.stdout.contains("budget     $12.50 per month, 1,000,000 tokens per month\n"))
        #expect(show.stdout.contains("remaining  $12.50, 1,000,000 tokens\n"))

        let json = try cli.ledger("users", "list", "--json")
        #expect(json.status == 0)
        let users = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [[String: Any]]
        #expect(users.count == 1)
        let budget = users[0]["budget"] as! [String: Any]
        #expect(budget["monthly_usd"] as? String == "12.50")
        #expect(budget["monthly_tokens"] as? Int == 1_000_000)
        #expect(budget["max_request_usd"] is NSNull)
        let month = users[0]["this_month"] as! [String: Any]
        #expect(month["remaining_usd"] as? String == "12.50")

        let table = try cli.ledger("users", "list")
        #expect(table.stdout.split(separator: "\n").first?.hasPrefix("NAME  STATUS  MONTHLY LIMIT") == true)
    }

    @Test("errors: duplicate user 65, unknown user 65, bad amount 64, missing database 66, uncreatable path 73")
    func exitCodes() throws {
        let cli = try CLIRunner()
        #expect(try cli.ledger("users", "add", "ann").status == 0)

        let dup = try cli.ledger("users", "add", "Ann")
        #expect(dup.status == 65)
        #expect(dup.stderr == "tokenmeter: a user named 'Ann' already exists (names are case-insensitive)\n")

        let unknown = try cli.ledger("keys", "create", "zed")
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("no user named 'zed'"))

        let badAmount = try cli.ledger("users", "set-budget", "ann", "--monthly-usd=-3")
        #expect(badAmount.status == 64)
        #expect(badAmount.stderr.contains("the monthly USD limit -$3.00 is negative"))
        let notAnAmount = try cli.ledger("users", "add", "bob", "--max-request-usd", "ten")
        #expect(notAnAmount.status == 64)
        #expect(notAnAmount.stderr.contains("'ten' is not a decimal amount of USD"))

        let missing = try cli.run(["users", "list", "--db", cli.directory.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no ledger database at"))
        #expect(!FileManager.default.fileExists(atPath: cli.directory.appendingPathComponent("none.sqlite").path))

        let uncreatable = try cli.run(["users", "add", "x", "--db", "/nonexistent-dir/l.sqlite"])
        #expect(uncreatable.status == 73)

        let badName = try cli.ledger("users", "add", "no spaces")
        #expect(badName.status == 65)
        #expect(badName.stderr.contains("only letters A-Z, digits and . _ @ - are allowed"))
    }

    @Test("keys create prints the key once and it authenticates; list shows prefixes only; revoke stops it")
    func keysLifecycle() async throws {
        let cli = try CLIRunner()
        _ = try cli.ledger("users", "add", "ann")
        let create = try cli.ledger("keys", "create", "ann")
        #expect(create.status == 0)
        let key = create.stdout.trimmingCharacters(in: .newlines)
        #expect(key.hasPrefix("tm_") && key.count == 64)
        #expect(create.stderr.contains("only time it is shown"))
        let prefix = String(key.split(separator: "_")[1])

        var config = SQLiteUsageStore.Configuration()
        config.role = .administration
        do {
            let store = try SQLiteUsageStore(path: cli.database, configuration: config)
            #expect(try await store.authenticate(apiKey: key).user.name == "ann")
        }

        let list = try cli.ledger("keys", "list")
        #expect(list.stdout.contains("tm_\(prefix)_…  ann   active"))
        #expect(!list.stdout.contains(key))
        let listJSON = try cli.ledger("keys", "list", "ann", "--json")
        #expect(!listJSON.stdout.contains(key))
        #expect(listJSON.stdout.contains("\"prefix\": \"\(prefix)\""))

        let revoke = try cli.ledger("keys", "revoke", "tm_\(prefix)_…")
        #expect(revoke.status == 0)
        #expect(revoke.stdout.hasPrefix("revoked tm_\(prefix)_… of ann at "))
        let store = try SQLiteUsageStore(path: cli.database, configuration: config)
        await #expect(throws: LedgerError.apiKeyRevoked(prefix: prefix)) { try await store.authenticate(apiKey: key) }
        #expect(try cli.ledger("keys", "revoke", "zzzzzzzz").status == 65)
    }

    @Test("TOKENMETER_DB selects the database when --db is absent; the default is ./tokenmeter.sqlite")
    func databaseSelection() throws {
        let cli = try CLIRunner()
        let envDB = cli.directory.appendingPathComponent("env.sqlite").path
        #expect(try cli.run(["users", "add", "ann"], environmentDB: envDB).status == 0)
        #expect(FileManager.default.fileExists(atPath: envDB))
        #expect(try cli.run(["users", "add", "bob"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: cli.directory.appendingPathComponent("tokenmeter.sqlite").path))
        #expect(try cli.run(["users", "show", "bob"], environmentDB: envDB).status == 65)
    }

    @Test("disable/enable and set-budget with 'none' round-trip through show --json")
    func statusAndBudget() throws {
        let cli = try CLIRunner()
        _ = try cli.ledger("users", "add", "ann", "--monthly-usd", "5", "--max-request-usd", "0.1")
        #expect(try cli.ledger("users", "disable", "ann").stdout == "user ann is disabled\n")
        let set = try cli.ledger("users", "set-budget", "ann", "--monthly-usd", "none", "--monthly-tokens", "500")
        #expect(set.stdout == "budget of ann: 500 tokens per month, at most $0.10 per request\n")
        let show = try cli.ledger("users", "show", "ann", "--json")
        let user = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any]
        #expect(user["status"] as? String == "disabled")
        #expect((user["budget"] as! [String: Any])["monthly_usd"] is NSNull)
        #expect((user["this_month"] as! [String: Any])["remaining_tokens"] as? Int == 500)
        #expect(try cli.ledger("users", "enable", "ann").stdout == "user ann is active\n")
    }

    @Test("users show reports settled and held spend and a per-model table from real ledger activity")
    func showWithUsage() async throws {
        let cli = try CLIRunner()
        _ = try cli.ledger("users", "add", "ann", "--monthly-usd", "1")
        var config = SQLiteUsageStore.Configuration()
        config.role = .administration
        do {
            let store = try SQLiteUsageStore(path: cli.database, configuration: config)
            let user = try await store.user(named: "ann")
            let key = try await store.createAPIKey(userID: user.id)
            func request(_ id: String, _ usd: String) throws -> ReservationRequest {
                ReservationRequest(requestID: id, userID: user.id, apiKeyID: key.info.id, model: "gpt-4o-mini",
                                   upstream: "openai", estimate: UsageEstimate(cost: try Money(parsing: usd), tokens: 1_000))
            }
            let done = try await store.reserve(try request("a", "0.25"))
            _ = try await store.settle(done, usage: MeteredUsage(promptTokens: 1_200, completionTokens: 300,
                                                                 cost: Money(picoUSD: 1_500 * 150_000)), status: .completed)
            _ = try await store.reserve(try request("b", "0.10")) // left open: held
        }
        let show = try cli.ledger("users", "show", "ann")
        #expect(show.status == 0)
        #expect(show.stdout.contains("spent      $0.000225 settled + $0.10 held = $0.100225; 2,500 tokens\n"))
        #expect(show.stdout.contains("remaining  $0.899775\n"))
        #expect(show.stdout.contains("requests   1 settled, 1 in flight\n"))
        #expect(show.stdout.contains("gpt-4o-mini  1         1,200   300         1,500          $0.000225"))
    }
}
