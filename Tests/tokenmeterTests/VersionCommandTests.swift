import Foundation
import Testing

@Suite("tokenmeter --version (the built binary as a subprocess)")
struct VersionCommandTests {
    @Test("--version prints the version and nothing else on stdout, and exits 0")
    func versionFlag() throws {
        let cli = try CLIRunner()
        let result = try cli.run(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        // The release this binary is; bump with TokenMeterVersion.current (Sources/tokenmeter/TokenMeterVersion.swift).
        #expect(result.stdout == "0.7.0\n")
        #expect(result.stderr.isEmpty)
    }
}
