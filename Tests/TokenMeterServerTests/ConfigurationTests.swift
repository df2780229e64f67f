import Foundation
import Testing
import TokenMeterServer

@Suite("Server configuration")
struct ConfigurationTests {
    @Test("zero config: OpenAI when OPENAI_API_KEY is set, otherwise Ollama on 127.0.0.1:11434; 127.0.0.1:8080; ./tokenmeter.sqlite")
    func zeroConfig() throws {
        let withKey = try ServerConfiguration.load(file: nil, environment: ["OPENAI_API_KEY": "sk-x"])
        #expect(withKey.upstreams.map(\.baseURL) == ["https://api.openai.com/v1"])
        #expect(withKey.upstreams.first?.apiKey == "sk-x")
        let without = try ServerConfiguration.load(file: nil, environment: [:])
        #expect(without.upstreams.map(\.baseURL) == ["http://127.0.0.1:11434"])
        #expect(without.upstreams.first?.provider == .ollama)
        #expect(without.host == "127.0.0.1" && without.port == 8080 && without.databasePath == "./tokenmeter.sqlite")
    }

    @Test("the YAML file sets everything, routes pick upstreams, and TOKENMETER_* variables override the file")
    func yamlAndEnvironment() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tm-config-\(UUID().uuidString).yaml").path
        try """
            listen: {host: 0.0.0.0, port: 9000}
            database: /tmp/ledger.sqlite
            admin_key_env: MY_ADMIN
            body_limit_bytes: 65536
            checkpoint_interval_ms: 250
            shutdown_grace_seconds: 2.5
            upstreams:
              - {name: openai, provider: openai, base_url: "https://api.openai.com/v1", api_key_env: UP_KEY,
                 timeouts: {connect_seconds: 3, first_byte_seconds: 30, idle_seconds: 15}}
              - {name: local, provider: ollama, base_url: "http://127.0.0.1:11434"}
            routes:
              - {model: "gpt-*", upstream: openai}
              - {model: "*", upstream: local}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let env = ["MY_ADMIN": "admin-secret-0123456789", "UP_KEY": "sk-up", "TOKENMETER_PORT": "9100"]
        let config = try ServerConfiguration.load(file: path, environment: env)
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 9100)
        #expect(config.databasePath == "/tmp/ledger.sqlite")
        #expect(config.adminKey == "admin-secret-0123456789")
        #expect(config.bodyLimitBytes == 65536)
        #expect(config.checkpointInterval == .milliseconds(250))
        #expect(config.shutdownGrace == .milliseconds(2500))
        #expect(config.upstreams.map(\.name) == ["openai", "local"])
        #expect(config.upstreams[0].apiKey == "sk-up")
        #expect(config.upstreams[0].timeouts.firstByte == 30)
        #expect(config.routes.count == 2)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(file: path, environment: ["TOKENMETER_PORT": "eighty"])
        }
    }

    @Test("alerts: thresholds, a webhook needs a secret, the environment overrides; console.session_hours")
    func alertsAndConsole() throws {
        func load(_ yaml: String, _ env: [String: String] = [:]) throws -> ServerConfiguration {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("tm-config-\(UUID().uuidString).yaml").path
            try ("upstreams: [{name: local, provider: ollama, base_url: \"http://127.0.0.1:11434\"}]\n" + yaml)
                .write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try ServerConfiguration.load(file: path, environment: env)
        }
        let defaults = try load("")
        #expect(defaults.alerts.thresholdsPercent == [80, 100] && defaults.alerts.webhookURL == nil)
        #expect(defaults.consoleSession == .seconds(8 * 3600))
        let c = try load("""
            console: {session_hours: 0.5}
            alerts:
              thresholds_percent: [50, 90, 110]
              webhook_url: https://hooks.example.com/x
              webhook_secret_env: HOOK_SECRET
              webhook_attempts: 3
              webhook_first_retry_seconds: 0.25
            """, ["HOOK_SECRET": "0123456789abcdefXYZ"])
        #expect(c.alerts.thresholdsPercent == [50, 90, 110] && c.alerts.webhookAttempts == 3)
        #expect(c.alerts.webhookSecret == "0123456789abcdefXYZ" && c.alerts.firstRetry == .milliseconds(250))
        #expect(c.consoleSession == .seconds(1800))
        let env = try load("", ["TOKENMETER_ALERTS_WEBHOOK_URL": "http://127.0.0.1:9/h", "TOKENMETER_ALERTS_WEBHOOK_SECRET": "s".padding(toLength: 16, withPad: "s", startingAt: 0)])
        #expect(env.alerts.webhookURL == "http://127.0.0.1:9/h")
        for (yaml, message) in [
            ("alerts: {webhook_url: \"https://h.example/x\"}", "needs alerts.webhook_secret"),
            ("alerts: {webhook_url: \"https://h.example/x\", webhook_secret: short}", "needs alerts.webhook_secret"),
            ("alerts: {webhook_url: \"ftp://h.example/x\", webhook_secret: \"0123456789abcdef\"}", "http:// or https://"),
            ("alerts: {thresholds_percent: [0]}", "1–1000"),
            ("alerts: {thresholds_percent: [80, 80]}", "twice"),
            ("alerts: {webhook_attempts: 0}", "webhook_attempts"),
            ("alerts: {webhok_url: x}", "webhok_url"),
        ] {
            #expect(throws: ConfigurationError.self, "\(yaml)") { try load(yaml) }
            do { _ = try load(yaml) } catch { #expect("\(error)".contains(message), "\(error)") }
        }
    }

    @Test("responses: native or translate per upstream; native by default for api.openai.com only; native needs provider openai")
    func responsesRoute() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tm-config-\(UUID().uuidString).yaml").path
        try """
            upstreams:
              - {name: openai, base_url: "https://api.openai.com/v1"}
              - {name: vllm, base_url: "http://10.0.0.5:8000/v1"}
              - {name: proxy, base_url: "https://proxy.example/v1", responses: native}
              - {name: pinned, base_url: "https://api.openai.com/v1", responses: translate}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try ServerConfiguration.load(file: path, environment: [:])
        #expect(config.upstreams.map(\.responses) == [.native, .translated, .native, .translated])
        #expect(try ServerConfiguration.load(file: nil, environment: ["OPENAI_API_KEY": "sk-x"]).upstreams.first?.responses == .native)
        for bad in ["{name: o, provider: ollama, base_url: \"http://127.0.0.1:11434\", responses: native}",
                    "{name: o, base_url: \"http://127.0.0.1:1/v1\", responses: sometimes}"] {
            try "upstreams:\n  - \(bad)\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ConfigurationError.self) { try ServerConfiguration.load(file: path, environment: [:]) }
        }
    }
}
