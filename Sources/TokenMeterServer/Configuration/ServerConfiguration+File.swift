import Foundation
import TokenMeterClient

/// Why a configuration could not be loaded.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and where.
    public var message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

extension ServerConfiguration {
    /// The configuration from a YAML file (nil: zero-config defaults), then environment overrides:
    /// `TOKENMETER_HOST`, `TOKENMETER_PORT`, `TOKENMETER_DB`, `TOKENMETER_ADMIN_KEY`,
    /// `TOKENMETER_BODY_LIMIT_BYTES`, `TOKENMETER_CHECKPOINT_INTERVAL_MS`, `TOKENMETER_SHUTDOWN_GRACE_SECONDS`,
    /// `TOKENMETER_LEDGER_BUSY_TIMEOUT_MS`, `TOKENMETER_MAX_CONCURRENT_REQUESTS_PER_KEY`,
    /// `TOKENMETER_EARLY_UPSTREAM_START`, `TOKENMETER_UPSTREAM_THREADS`, `TOKENMETER_HEADER_TIMEOUT_SECONDS`,
    /// `TOKENMETER_IDLE_TIMEOUT_SECONDS`, `TOKENMETER_MAX_CONNECTIONS`, `TOKENMETER_PROMPT_COUNT_CACHE_MIB`,
    /// `TOKENMETER_ALERTS_WEBHOOK_URL`, `TOKENMETER_ALERTS_WEBHOOK_SECRET`.
    public static func load(file path: String?, environment: [String: String]) throws(ConfigurationError) -> ServerConfiguration {
        var config = zeroConfig(environment: environment)
        if let path {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationError("cannot read the configuration file \(path): \(error.localizedDescription)")
            }
            try config.apply(ConfigurationFile.read(text, origin: path), origin: path, environment: environment)
        }
        try config.applyEnvironment(environment)
        return config
    }

    private mutating func apply(_ file: ConfigurationFile, origin: String, environment: [String: String]) throws(ConfigurationError) {
        if let h = file.listen?.host { host = h }
        if let p = file.listen?.port { port = p }
        if let d = file.database { databasePath = d }
        if let l = file.shared_ledger {
            if let s = l.heartbeat_seconds {
                sharedLedger.heartbeatInterval = try Self.timeout(seconds: s, key: "shared_ledger.heartbeat_seconds", origin: origin)
            }
            if let s = l.instance_expiry_seconds {
                sharedLedger.instanceExpiry = try Self.timeout(seconds: s, key: "shared_ledger.instance_expiry_seconds", origin: origin)
            }
            if let n = l.max_connections {
                guard n >= 1 else { throw ConfigurationError("\(origin): shared_ledger.max_connections must be at least 1") }
                sharedLedger.maxConnections = n
            }
        }
        if let k = file.admin_key { adminKey = k }
        if let name = file.admin_key_env { adminKey = environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? adminKey }
        if let b = file.body_limit_bytes { bodyLimitBytes = b }
        if let ms = file.checkpoint_interval_ms { checkpointInterval = .milliseconds(ms) }
        if let s = file.shutdown_grace_seconds { shutdownGrace = .milliseconds(Int64(s * 1000)) }
        if let c = file.max_tokens_ceiling { maxTokensCeiling = c }
        if let ms = file.ledger_busy_timeout_ms { ledgerBusyTimeout = .milliseconds(ms) }
        if let n = file.max_concurrent_requests_per_key { maxConcurrentRequestsPerKey = n }
        if let e = file.early_upstream_start { earlyUpstreamStart = e }
        if let n = file.upstream_threads { upstreamThreads = n }
        if let s = file.header_timeout_seconds {
            requestHeadTimeout = try Self.timeout(seconds: s, key: "header_timeout_seconds", origin: origin)
        }
        if let s = file.idle_timeout_seconds { idleTimeout = try Self.timeout(seconds: s, key: "idle_timeout_seconds", origin: origin) }
        if let n = file.max_connections { maxConnections = n }
        if let n = file.prompt_count_cache_mib { promptCountCacheMiB = n }
        if let h = file.holds {
            if let n = h.hidden_output_default_max_tokens { holds.hiddenOutputDefaultCap = n }
            if let p = h.fair_share_percent { holds.fairSharePercent = p }
            if let n = h.max_slice_tokens { holds.maximumSlice = n }
        }
        if let p = file.billing?.unreported_hidden_output_percent { unreportedHiddenOutputPercent = p }
        if let c = file.catalog { catalogPath = c }
        if let a = file.alerts {
            if let t = a.thresholds_percent { alerts.thresholdsPercent = t }
            if let u = a.webhook_url { alerts.webhookURL = u }
            if let s = a.webhook_secret { alerts.webhookSecret = s }
            if let name = a.webhook_secret_env { alerts.webhookSecret = environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? alerts.webhookSecret }
            if let n = a.webhook_attempts { alerts.webhookAttempts = n }
            if let s = a.webhook_first_retry_seconds {
                alerts.firstRetry = try Self.timeout(seconds: s, key: "alerts.webhook_first_retry_seconds", origin: origin)
            }
        }
        if let h = file.console?.session_hours {
            consoleSession = try Self.timeout(seconds: h * 3600, key: "console.session_hours", origin: origin)
        }
        if let entries = file.upstreams {
            guard !entries.isEmpty else { throw ConfigurationError("\(origin): 'upstreams' is empty") }
            upstreams = try entries.map { entry throws(ConfigurationError) in
                let provider: Upstream.Provider
                switch entry.provider ?? "openai" {
                case "openai", "openai-compatible": provider = .openAICompatible
                case "ollama": provider = .ollama
                case "anthropic": provider = .anthropic
                case let other:
                    throw ConfigurationError("\(origin): upstream '\(entry.name)': provider '\(other)' is not 'openai', 'ollama' or 'anthropic'")
                }
                guard entry.base_url.hasPrefix("http://") || entry.base_url.hasPrefix("https://") else {
                    throw ConfigurationError("\(origin): upstream '\(entry.name)': base_url must start with http:// or https://")
                }
                var key = entry.api_key
                if let env = entry.api_key_env { key = environment[env].flatMap { $0.isEmpty ? nil : $0 } ?? key }
                let defaults = ChatTimeouts()
                let timeouts = ChatTimeouts(connect: entry.timeouts?.connect_seconds ?? defaults.connect,
                                            firstByte: entry.timeouts?.first_byte_seconds ?? defaults.firstByte,
                                            idle: entry.timeouts?.idle_seconds ?? defaults.idle)
                var responses: ResponsesRoute?
                switch entry.responses {
                case nil: responses = nil
                case "native"?:
                    guard provider == .openAICompatible else {
                        throw ConfigurationError("\(origin): upstream '\(entry.name)': responses: native needs provider openai "
                            + "(Ollama's native API has no Responses endpoint; use provider openai with its /v1 URL)")
                    }
                    responses = .native
                case "translate"?, "translated"?: responses = .translated
                case let other?:
                    throw ConfigurationError("\(origin): upstream '\(entry.name)': responses '\(other)' is not 'native' or 'translate'")
                }
                var upstream = UpstreamConfiguration(name: entry.name, baseURL: entry.base_url, provider: provider, apiKey: key,
                                                     timeouts: timeouts, responses: responses)
                if let version = entry.anthropic_version {
                    guard provider == .anthropic else {
                        throw ConfigurationError("\(origin): upstream '\(entry.name)': anthropic_version is for provider anthropic")
                    }
                    upstream.anthropicVersion = version
                }
                return upstream
            }
        }
        if let r = file.routes {
            routes = r.map { ModelRoute(model: $0.model, upstream: $0.upstream) }
            for route in routes where !upstreams.contains(where: { $0.name == route.upstream }) {
                throw ConfigurationError("\(origin): route for '\(route.model)' names the unknown upstream '\(route.upstream)'")
            }
        }
        try validate(origin: origin)
    }

    private mutating func applyEnvironment(_ env: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func int(_ name: String) throws(ConfigurationError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let n = Int(text) else { throw ConfigurationError("\(name)='\(text)' is not a whole number") }
            return n
        }
        func timeout(_ name: String) throws(ConfigurationError) -> Duration? {
            guard let text = value(name) else { return nil }
            guard let s = Double(text) else { throw ConfigurationError("\(name)='\(text)' is not a number of seconds") }
            return try Self.timeout(seconds: s, key: name, origin: "environment")
        }
        if let h = value("TOKENMETER_HOST") { host = h }
        if let p = try int("TOKENMETER_PORT") { port = p }
        if let d = value("TOKENMETER_DB") { databasePath = d }
        if let d = try timeout("TOKENMETER_LEDGER_HEARTBEAT_SECONDS") { sharedLedger.heartbeatInterval = d }
        if let d = try timeout("TOKENMETER_LEDGER_INSTANCE_EXPIRY_SECONDS") { sharedLedger.instanceExpiry = d }
        if let k = value("TOKENMETER_ADMIN_KEY") { adminKey = k }
        if let u = value("TOKENMETER_ALERTS_WEBHOOK_URL") { alerts.webhookURL = u }
        if let s = value("TOKENMETER_ALERTS_WEBHOOK_SECRET") { alerts.webhookSecret = s }
        if let b = try int("TOKENMETER_BODY_LIMIT_BYTES") { bodyLimitBytes = b }
        if let ms = try int("TOKENMETER_CHECKPOINT_INTERVAL_MS") { checkpointInterval = .milliseconds(ms) }
        if let s = try int("TOKENMETER_SHUTDOWN_GRACE_SECONDS") { shutdownGrace = .seconds(s) }
        if let ms = try int("TOKENMETER_LEDGER_BUSY_TIMEOUT_MS") { ledgerBusyTimeout = .milliseconds(ms) }
        if let n = try int("TOKENMETER_MAX_CONCURRENT_REQUESTS_PER_KEY") { maxConcurrentRequestsPerKey = n }
        if let n = try int("TOKENMETER_UPSTREAM_THREADS") { upstreamThreads = n }
        if let d = try timeout("TOKENMETER_HEADER_TIMEOUT_SECONDS") { requestHeadTimeout = d }
        if let d = try timeout("TOKENMETER_IDLE_TIMEOUT_SECONDS") { idleTimeout = d }
        if let n = try int("TOKENMETER_MAX_CONNECTIONS") { maxConnections = n }
        if let n = try int("TOKENMETER_PROMPT_COUNT_CACHE_MIB") { promptCountCacheMiB = n }
        if let text = value("TOKENMETER_EARLY_UPSTREAM_START") {
            switch text.lowercased() {
            case "1", "true", "yes", "on": earlyUpstreamStart = true
            case "0", "false", "no", "off": earlyUpstreamStart = false
            default: throw ConfigurationError("TOKENMETER_EARLY_UPSTREAM_START='\(text)' is not true or false")
            }
        }
        try validate(origin: "environment")
    }

    /// A connection timeout of `seconds` (decimals allowed), refusing what cannot be one: not more than zero,
    /// not a number, or over a day (86,400 s).
    private static func timeout(seconds: Double, key: String, origin: String) throws(ConfigurationError) -> Duration {
        guard seconds > 0, seconds <= 86_400 else {
            throw ConfigurationError("\(origin): \(key) must be more than 0 and at most 86400 seconds, got \(seconds)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Refuses values that cannot work.
    public func validate(origin: String = "configuration") throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw ConfigurationError("\(origin): port \(port) is not 0–65535") }
        guard bodyLimitBytes >= 1024 else { throw ConfigurationError("\(origin): body_limit_bytes must be at least 1024") }
        guard sharedLedger.instanceExpiry >= sharedLedger.heartbeatInterval * 2 else {
            // Shorter, a live instance that misses one heartbeat would be taken for dead and its streams settled.
            throw ConfigurationError("\(origin): shared_ledger.instance_expiry_seconds must be at least twice heartbeat_seconds")
        }
        guard checkpointInterval > .zero else { throw ConfigurationError("\(origin): checkpoint interval must be positive") }
        if let n = maxConcurrentRequestsPerKey, n < 1 {
            throw ConfigurationError("\(origin): max_concurrent_requests_per_key must be at least 1")
        }
        guard (1...64).contains(upstreamThreads) else { throw ConfigurationError("\(origin): upstream_threads must be 1–64") }
        guard requestHeadTimeout > .zero else { throw ConfigurationError("\(origin): header_timeout_seconds must be positive") }
        guard idleTimeout > .zero else { throw ConfigurationError("\(origin): idle_timeout_seconds must be positive") }
        if let n = maxConnections, n < 1 { throw ConfigurationError("\(origin): max_connections must be at least 1") }
        guard (0...65_536).contains(promptCountCacheMiB) else {
            throw ConfigurationError("\(origin): prompt_count_cache_mib must be 0 (off) to 65536")
        }
        guard holds.hiddenOutputDefaultCap >= 1 else {
            throw ConfigurationError("\(origin): holds.hidden_output_default_max_tokens must be at least 1")
        }
        guard (1...100).contains(holds.fairSharePercent) else {
            throw ConfigurationError("\(origin): holds.fair_share_percent must be 1–100")
        }
        guard (1...100).contains(unreportedHiddenOutputPercent) else {
            throw ConfigurationError("\(origin): billing.unreported_hidden_output_percent must be 1–100")
        }
        if let n = holds.maximumSlice, n < 1 { throw ConfigurationError("\(origin): holds.max_slice_tokens must be at least 1") }
        guard ledgerBusyTimeout >= .zero else { throw ConfigurationError("\(origin): the ledger busy timeout must not be negative") }
        guard !upstreams.isEmpty else { throw ConfigurationError("\(origin): no upstream configured") }
        try alerts.validate(origin: origin)
        if let adminKey, adminKey.count < 16 { throw ConfigurationError("\(origin): the admin key must be at least 16 characters") }
    }
}
