import Foundation
import Testing
import TokenMeterServer

@Suite("Server configuration: ledger busy timeout, per-key concurrency, upstream threads, connections")
struct LimitsConfigurationTests {
    @Test("ledger_busy_timeout_ms, max_concurrent_requests_per_key and upstream_threads come from YAML, TOKENMETER_* overrides them, bad values are refused")
    func limitsFromFileAndEnvironment() throws {
        try withConfigurationFile("""
            ledger_busy_timeout_ms: 750
            max_concurrent_requests_per_key: 4
            upstream_threads: 3
            """) { path in
            let defaults = try ServerConfiguration.load(file: nil, environment: [:])
            #expect(defaults.ledgerBusyTimeout == .seconds(5))
            #expect(defaults.maxConcurrentRequestsPerKey == nil)
            #expect(defaults.upstreamThreads == 1)
            let fromFile = try ServerConfiguration.load(file: path, environment: [:])
            #expect(fromFile.ledgerBusyTimeout == .milliseconds(750))
            #expect(fromFile.maxConcurrentRequestsPerKey == 4)
            #expect(fromFile.upstreamThreads == 3)
            let overridden = try ServerConfiguration.load(file: path, environment: [
                "TOKENMETER_LEDGER_BUSY_TIMEOUT_MS": "2000", "TOKENMETER_MAX_CONCURRENT_REQUESTS_PER_KEY": "9",
                "TOKENMETER_UPSTREAM_THREADS": "2",
            ])
            #expect(overridden.ledgerBusyTimeout == .seconds(2))
            #expect(overridden.maxConcurrentRequestsPerKey == 9)
            #expect(overridden.upstreamThreads == 2)
            for bad in [["TOKENMETER_MAX_CONCURRENT_REQUESTS_PER_KEY": "0"], ["TOKENMETER_LEDGER_BUSY_TIMEOUT_MS": "-1"],
                        ["TOKENMETER_MAX_CONCURRENT_REQUESTS_PER_KEY": "many"], ["TOKENMETER_UPSTREAM_THREADS": "0"],
                        ["TOKENMETER_UPSTREAM_THREADS": "65"]] {
                #expect(throws: ConfigurationError.self, "\(bad)") { try ServerConfiguration.load(file: path, environment: bad) }
            }
        }
    }

    @Test("header_timeout_seconds, idle_timeout_seconds and max_connections: defaults 30 s, 60 s, none; YAML sets them, TOKENMETER_* overrides, bad values are refused")
    func connectionLimitsFromFileAndEnvironment() throws {
        try withConfigurationFile("""
            header_timeout_seconds: 2.5
            idle_timeout_seconds: 90
            max_connections: 500
            """) { path in
            let defaults = try ServerConfiguration.load(file: nil, environment: [:])
            #expect(defaults.requestHeadTimeout == .seconds(30))
            #expect(defaults.idleTimeout == .seconds(60))
            #expect(defaults.maxConnections == nil)
            let fromFile = try ServerConfiguration.load(file: path, environment: [:])
            #expect(fromFile.requestHeadTimeout == .milliseconds(2500))
            #expect(fromFile.idleTimeout == .seconds(90))
            #expect(fromFile.maxConnections == 500)
            let overridden = try ServerConfiguration.load(file: path, environment: [
                "TOKENMETER_HEADER_TIMEOUT_SECONDS": "0.5", "TOKENMETER_IDLE_TIMEOUT_SECONDS": "120",
                "TOKENMETER_MAX_CONNECTIONS": "64",
            ])
            #expect(overridden.requestHeadTimeout == .milliseconds(500))
            #expect(overridden.idleTimeout == .seconds(120))
            #expect(overridden.maxConnections == 64)
            for bad in [["TOKENMETER_HEADER_TIMEOUT_SECONDS": "0"], ["TOKENMETER_IDLE_TIMEOUT_SECONDS": "-1"],
                        ["TOKENMETER_IDLE_TIMEOUT_SECONDS": "soon"], ["TOKENMETER_HEADER_TIMEOUT_SECONDS": "nan"],
                        ["TOKENMETER_IDLE_TIMEOUT_SECONDS": "1e300"], ["TOKENMETER_MAX_CONNECTIONS": "0"]] {
                #expect(throws: ConfigurationError.self, "\(bad)") { try ServerConfiguration.load(file: path, environment: bad) }
            }
            try "idle_timeout_seconds: 0\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ConfigurationError.self) { try ServerConfiguration.load(file: path, environment: [:]) }
        }
    }
}

@Suite("Server configuration: holds")
struct HoldsConfigurationTests {
    @Test("holds: defaults 32,768 tokens and 50%, no slice bound; YAML sets them; bad values are refused with the key")
    func holdsFromFile() throws {
        let defaults = try ServerConfiguration.load(file: nil, environment: [:])
        #expect(defaults.holds == HoldPolicy())
        #expect(defaults.holds.hiddenOutputDefaultCap == 32_768 && defaults.holds.fairSharePercent == 50)
        #expect(defaults.holds.maximumSlice == nil)
        try withConfigurationFile("""
            holds:
              hidden_output_default_max_tokens: 8000
              fair_share_percent: 20
              max_slice_tokens: 64
            """) { path in
            let holds = try ServerConfiguration.load(file: path, environment: [:]).holds
            #expect(holds.hiddenOutputDefaultCap == 8000 && holds.fairSharePercent == 20 && holds.maximumSlice == 64)
        }
        for (bad, key) in [("fair_share_percent: 0", "fair_share_percent"), ("fair_share_percent: 101", "fair_share_percent"),
                           ("hidden_output_default_max_tokens: 0", "hidden_output_default_max_tokens"),
                           ("max_slice_tokens: 0", "max_slice_tokens"), ("fair_share: 10", "fair_share")] {
            try withConfigurationFile("holds:\n  \(bad)\n") { path in
                do {
                    _ = try ServerConfiguration.load(file: path, environment: [:])
                    Issue.record("\(bad) was accepted")
                } catch {
                    #expect("\(error)".contains(key), "\(error)")
                }
            }
        }
    }
}

extension HoldsConfigurationTests {
    @Test("billing.unreported_hidden_output_percent: default 100; YAML sets it; 0 and 101 are refused")
    func unreportedHiddenOutputPercent() throws {
        #expect(try ServerConfiguration.load(file: nil, environment: [:]).unreportedHiddenOutputPercent == 100)
        try withConfigurationFile("billing:\n  unreported_hidden_output_percent: 40\n") { path in
            let configuration = try ServerConfiguration.load(file: path, environment: [:])
            #expect(configuration.unreportedHiddenOutputPercent == 40)
        }
        for bad in ["0", "101"] {
            try withConfigurationFile("billing:\n  unreported_hidden_output_percent: \(bad)\n") { path in
                #expect(throws: ConfigurationError.self) { try ServerConfiguration.load(file: path, environment: [:]) }
            }
        }
    }
}
