import Foundation
import Testing
import TokenMeterJSON

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
        let config = cli.directory.appendingPathComponent("serve.yaml")
        try """
            admin_key: \(Self.adminKey)
            upstreams:
              - name: nowhere
                provider: openai
                base_url: http://127.0.0.1:9/v1
            """.write(to: config, atomically: true, encoding: .utf8)
        let server = try await offPool { try ServeProcess(runner: cli, config: config.path) }
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

    /// The body of `GET url` with the admin key (curl; 200 expected).
    static func get(_ url: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-S", "--fail", "--noproxy", "*", "-H", "Authorization: Bearer \(adminKey)", url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "GET \(url)")
        return data
    }
}
