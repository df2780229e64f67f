import Foundation
import Testing

@Suite("tokenmeter serve: configuration errors (the built binary as a subprocess)")
struct ServeCommandTests {
    @Test("--config with a misspelt key exits 78 (EX_CONFIG) with a message naming the file, the line and the closest key")
    func misspeltKeyIsAConfigurationError() throws {
        let cli = try CLIRunner()
        let config = cli.directory.appendingPathComponent("bad.yaml")
        try """
            upstreams:
              - name: local
                provider: ollama
                bse_url: http://127.0.0.1:11434
            """.write(to: config, atomically: true, encoding: .utf8)
        // Were the file wrongly accepted, the server would start and this run never end: the unusable ledger path
        // makes such a start fail at once instead (with another message and exit code).
        let result = try cli.run(["serve", "--config", config.path, "--port", "0", "--db", "/nonexistent/dir/ledger.sqlite"])
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr == "tokenmeter: error: \(config.path):4: unknown configuration key 'bse_url' in upstreams[0]; did you mean 'base_url'?\n")
    }
}
