import Foundation
import Testing
import TokenMeterServer

@Suite("Server configuration: unknown keys")
struct ConfigurationKeyTests {
    /// Writes `yaml` to a fresh file, loads it, and returns the error message (nil when it loaded).
    func loadError(_ yaml: String) throws -> (path: String, message: String?) {
        try withConfigurationFile(yaml) { path in
            do {
                _ = try ServerConfiguration.load(file: path, environment: [:])
                return (path, nil)
            } catch let error as ConfigurationError {
                return (path, error.message)
            }
        }
    }

    @Test("a misspelt top-level key is refused with the file, its line and the closest known key")
    func misspeltTopLevelKey() throws {
        let (path, message) = try loadError("""
            listen: {port: 9000}
            # the ledger
            databse: /tmp/ledger.sqlite
            """)
        #expect(message == "\(path):3: unknown configuration key 'databse'; did you mean 'database'?")
    }

    @Test("a misspelt key inside an upstream, or inside its timeouts, names the upstream's index and the closest key")
    func misspeltNestedKey() throws {
        let (path, message) = try loadError("""
            upstreams:
              - name: openai
                base_url: https://api.openai.com/v1
              - name: local
                provider: ollama
                bse_url: http://127.0.0.1:11434
            """)
        #expect(message == "\(path):6: unknown configuration key 'bse_url' in upstreams[1]; did you mean 'base_url'?")
        let (deeperPath, deeper) = try loadError("""
            upstreams:
              - {name: openai, base_url: "https://api.openai.com/v1", timeouts: {connect_seconds: 3,
                 idle_second: 30}}
            """)
        #expect(deeper == "\(deeperPath):3: unknown configuration key 'idle_second' in upstreams[0].timeouts; did you mean 'idle_seconds'?")
        let (routePath, route) = try loadError("""
            routes:
              - {model: "*", upstreams: x}
            """)
        #expect(route == "\(routePath):2: unknown configuration key 'upstreams' in routes[0]; did you mean 'upstream'?")
    }

    @Test("a key like no known one is refused with the keys allowed there")
    func unrelatedKeyListsTheAllowedKeys() throws {
        let (path, message) = try loadError("""
            listen:
              host: 127.0.0.1
              tls: true
            """)
        #expect(message == "\(path):3: unknown configuration key 'tls' in listen; the keys allowed here are host, port")
        let (_, topLevel) = try loadError("notifications:\n  email: ops@example.com\n")
        #expect(topLevel?.contains(":1: unknown configuration key 'notifications'; the keys allowed here are listen, database,") == true,
                "\(topLevel ?? "loaded")")
    }

    @Test("the complete example in docs/SERVER.md loads: every key it shows is a known one")
    func documentedExampleLoads() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/SERVER.md")
        let page = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(page.range(of: "```yaml\n"))
        let end = try #require(page.range(of: "```", range: start.upperBound..<page.endIndex))
        let (_, message) = try loadError(String(page[start.upperBound..<end.lowerBound]))
        #expect(message == nil)
    }
}
