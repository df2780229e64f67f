import Foundation
import Testing
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterMoney

/// The CLI's `--json` and the admin API show users and keys the same way (`LedgerJSON`, docs/LEDGER.md).
@Suite("One view of users and keys")
struct ViewParityTests {
    static let adminKey = "parity-admin-key-0123456789"

    @Test("users show --json and GET /admin/users/NAME, keys list --json and GET /admin/keys give the same fields and values")
    func cliAndAdminAPIAgree() async throws {
        let cli = try CLIRunner()
        #expect(try cli.ledger("users", "add", "ann", "--monthly-usd", "12.50", "--monthly-tokens", "1000000",
                               "--max-request-usd", "0.25").status == 0)
        #expect(try cli.ledger("keys", "create", "ann").status == 0)
        #expect(try cli.ledger("keys", "create", "ann").status == 0)
        let server = try await Self.serve(cli)
        defer { _ = try? server.terminate() }
        let base = "http://127.0.0.1:\(server.port)"

        let fromCLI = try JSONParser.parse(Array(try cli.ledger("users", "show", "ann", "--json").stdoutData))
        let fromAPI = try JSONParser.parse(Array(try Self.get(base + "/admin/users/ann")))
        #expect(fromCLI == fromAPI)
        #expect(fromCLI.objectValue?.keys == ["id", "name", "status", "created_at", "budget", "this_month"])
        #expect(fromCLI["budget"] == ["monthly_usd": "12.50", "monthly_tokens": 1_000_000, "max_request_usd": "0.25"])
        #expect(fromCLI["this_month"]?["remaining_usd"] == "12.50")

        let keysFromCLI = try JSONParser.parse(Array(try cli.ledger("keys", "list", "ann", "--json").stdoutData))
        let keysFromAPI = try JSONParser.parse(Array(try Self.get(base + "/admin/keys?user=ann")))
        #expect(keysFromCLI == keysFromAPI)
        #expect(keysFromCLI.arrayValue?.count == 2)
        #expect(keysFromCLI.arrayValue?.first?["key"] == nil, "a listed key never shows its secret")
    }

    @Test("this month's estimated cost: users show --json, GET /admin/users/NAME and the user's GET /v1/usage show the same estimated_usd, apart from settled_usd")
    func estimatedCostInEveryView() async throws {
        let cli = try CLIRunner()
        #expect(try cli.ledger("users", "add", "ann").status == 0)
        let issued = try JSONParser.parse(Array(try cli.ledger("keys", "create", "ann", "--json").stdoutData))
        let key = try #require(issued["key"]?.stringValue)
        // One request settled now through the ledger API: 300 of its 400 completion tokens are an estimate.
        do {
            var configuration = SQLiteUsageStore.Configuration()
            configuration.role = .administration
            let store = try SQLiteUsageStore(path: cli.database, configuration: configuration)
            let ann = try await store.user(named: "ann")
            let keyID = try #require(try await store.listAPIKeys(userID: ann.id).first?.id)
            let reservation = try await store.reserve(ReservationRequest(
                requestID: "r1", userID: ann.id, apiKeyID: keyID, model: "o3-mini", upstream: "openai",
                estimate: UsageEstimate(cost: Money(picoUSD: 4_000_000_000), tokens: 0)))
            var usage = MeteredUsage(promptTokens: 1_000, completionTokens: 400, cost: Money(picoUSD: 1_400 * 2_500_003))
            usage.estimatedCompletionTokens = 300
            usage.estimatedCost = Money(picoUSD: 300 * 2_500_003)
            _ = try await store.settle(reservation, usage: usage, status: .completed)
        }
        let server = try await Self.serve(cli)
        defer { _ = try? server.terminate() }
        let base = "http://127.0.0.1:\(server.port)"

        let fromCLI = try JSONParser.parse(Array(try cli.ledger("users", "show", "ann", "--json").stdoutData))
        #expect(fromCLI == (try JSONParser.parse(Array(try Self.get(base + "/admin/users/ann")))))
        let month = try #require(fromCLI["this_month"])
        #expect(month.objectValue?.keys == ["period", "settled_usd", "estimated_usd", "held_usd", "remaining_usd",
                                            "settled_tokens", "held_tokens", "remaining_tokens", "requests",
                                            "live_requests"])
        #expect(month["settled_usd"] == "0.0035000042")
        #expect(month["estimated_usd"] == "0.0007500009")
        let usage = try JSONParser.parse(Array(try Self.get(base + "/v1/usage", key: key)))
        #expect(usage["this_month"] == month)
        #expect(usage["cost_usd"] == "0.0035000042")
    }

    /// The body of `GET url` with `key` (the admin key unless given; curl; 200 expected).
    /// `tokenmeter serve` on `cli`'s ledger with the admin key and an upstream nobody calls.
    static func serve(_ cli: CLIRunner) async throws -> ServeProcess {
        let config = cli.directory.appendingPathComponent("serve.yaml")
        try """
            admin_key: \(adminKey)
            upstreams:
              - name: nowhere
                provider: openai
                base_url: http://127.0.0.1:9/v1
            """.write(to: config, atomically: true, encoding: .utf8)
        return try await offPool { try ServeProcess(runner: cli, config: config.path) }
    }

    static func get(_ url: String, key: String = adminKey) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-S", "--fail", "--noproxy", "*", "-H", "Authorization: Bearer \(key)", url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "GET \(url)")
        return data
    }
}
