import Yams

/// The YAML configuration file's shape (docs/SERVER.md has a complete, commented example). Each mapping's
/// `CodingKeys` is the list of keys it allows: ``read(_:origin:)`` refuses any other key before decoding.
struct ConfigurationFile: Decodable {
    struct Listen: Decodable {
        var host: String?
        var port: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case host, port }
    }

    struct Timeouts: Decodable {
        var connect_seconds: Double?
        var first_byte_seconds: Double?
        var idle_seconds: Double?
        enum CodingKeys: String, CodingKey, CaseIterable { case connect_seconds, first_byte_seconds, idle_seconds }
    }

    struct UpstreamEntry: Decodable {
        var name: String
        var provider: String?
        var base_url: String
        var api_key: String?
        var api_key_env: String?
        var timeouts: Timeouts?
        var responses: String?
        var anthropic_version: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, provider, base_url, api_key, api_key_env, timeouts, responses, anthropic_version
        }
    }

    struct Holds: Decodable {
        var hidden_output_default_max_tokens: Int?
        var fair_share_percent: Int?
        var max_slice_tokens: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case hidden_output_default_max_tokens, fair_share_percent, max_slice_tokens }
    }

    struct Billing: Decodable {
        var unreported_hidden_output_percent: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case unreported_hidden_output_percent }
    }

    struct Route: Decodable {
        var model: String
        var upstream: String
        enum CodingKeys: String, CodingKey, CaseIterable { case model, upstream }
    }

    struct SharedLedger: Decodable {
        var heartbeat_seconds: Double?
        var instance_expiry_seconds: Double?
        var max_connections: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case heartbeat_seconds, instance_expiry_seconds, max_connections }
    }

    struct Alerts: Decodable {
        var thresholds_percent: [Int]?
        var webhook_url: String?
        var webhook_secret: String?
        var webhook_secret_env: String?
        var webhook_attempts: Int?
        var webhook_first_retry_seconds: Double?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case thresholds_percent, webhook_url, webhook_secret, webhook_secret_env, webhook_attempts, webhook_first_retry_seconds
        }
    }

    struct Console: Decodable {
        var session_hours: Double?
        enum CodingKeys: String, CodingKey, CaseIterable { case session_hours }
    }

    var listen: Listen?
    var database: String?
    var shared_ledger: SharedLedger?
    var admin_key: String?
    var admin_key_env: String?
    var body_limit_bytes: Int?
    var checkpoint_interval_ms: Int?
    var shutdown_grace_seconds: Double?
    var max_tokens_ceiling: Int?
    var ledger_busy_timeout_ms: Int?
    var max_concurrent_requests_per_key: Int?
    var early_upstream_start: Bool?
    var upstream_threads: Int?
    var header_timeout_seconds: Double?
    var idle_timeout_seconds: Double?
    var max_connections: Int?
    var prompt_count_cache_mib: Int?
    var holds: Holds?
    var billing: Billing?
    var catalog: String?
    var upstreams: [UpstreamEntry]?
    var routes: [Route]?
    var alerts: Alerts?
    var console: Console?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, database, shared_ledger, admin_key, admin_key_env, body_limit_bytes, checkpoint_interval_ms, shutdown_grace_seconds,
             max_tokens_ceiling, ledger_busy_timeout_ms, max_concurrent_requests_per_key, early_upstream_start,
             upstream_threads, header_timeout_seconds, idle_timeout_seconds, max_connections, prompt_count_cache_mib, holds, billing,
             catalog, upstreams, routes, alerts, console
    }

    /// The keys of every mapping in the file.
    static let keys = ConfigurationKeys(CodingKeys.self, nested: [
        "listen": ConfigurationKeys(Listen.CodingKeys.self),
        "holds": ConfigurationKeys(Holds.CodingKeys.self),
        "shared_ledger": ConfigurationKeys(SharedLedger.CodingKeys.self),
        "billing": ConfigurationKeys(Billing.CodingKeys.self),
        "upstreams": ConfigurationKeys(UpstreamEntry.CodingKeys.self, nested: ["timeouts": ConfigurationKeys(Timeouts.CodingKeys.self)]),
        "routes": ConfigurationKeys(Route.CodingKeys.self),
        "alerts": ConfigurationKeys(Alerts.CodingKeys.self),
        "console": ConfigurationKeys(Console.CodingKeys.self),
    ])

    /// Parses `text` (the file named `origin`), refuses unknown keys with their line, and decodes it.
    static func read(_ text: String, origin: String) throws(ConfigurationError) -> ConfigurationFile {
        do {
            // Parsed as YAMLDecoder parses a string (only merge keys resolved); the parser is kept alive while the
            // node is used because nodes refer to its anchors weakly.
            let parser = try Parser(yaml: text, resolver: Resolver.basic.appending(.merge))
            return try withExtendedLifetime(parser) {
                let root = try parser.singleRoot() ?? ""
                try keys.check(root, path: "", origin: origin)
                return try YAMLDecoder().decode(ConfigurationFile.self, from: root)
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("\(origin): \(error)")
        }
    }
}
