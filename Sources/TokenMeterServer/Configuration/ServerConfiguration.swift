import Foundation
import TokenMeterClient

/// Everything `tokenmeter serve` needs to start: where to listen, the ledger file, the upstreams and which
/// models go where, and the operating limits. Build one with ``zeroConfig(environment:)``, from a YAML file
/// (``load(file:environment:)``), or in code (tests).
public struct ServerConfiguration: Sendable {
    /// Listen host, e.g. `127.0.0.1`.
    public var host: String = "127.0.0.1"
    /// Listen TCP port; 0 picks a free one (tests).
    public var port: Int = 8080
    /// The ledger: the path of a SQLite file (created on first start), or a `postgres://` URL of a database
    /// several gateways share (docs/DEPLOYMENT.md). See `LedgerLocation`.
    public var databasePath: String = "./tokenmeter.sqlite"
    /// Heartbeats and expiry of the instances sharing a PostgreSQL ledger (unused with SQLite).
    public var sharedLedger = SharedLedgerSettings()
    /// The upstream providers, by name.
    public var upstreams: [UpstreamConfiguration]
    /// Model routes, first match wins; a model no route matches goes to the first upstream.
    public var routes: [ModelRoute] = []
    /// Most bytes a request body may have; larger bodies get 413.
    public var bodyLimitBytes: Int = 4 * 1024 * 1024
    /// Most time between two ledger checkpoint writes of a stream (and between background flushes).
    public var checkpointInterval: Duration = .seconds(1)
    /// Budget alerts: thresholds and the webhook (docs/ALERTS.md).
    public var alerts = AlertSettings()
    /// How long a console sign-in lasts. Default 8 hours.
    public var consoleSession: Duration = .seconds(8 * 3600)
    /// The key for `/admin/` routes (`Authorization: Bearer <adminKey>`); nil disables them.
    public var adminKey: String?
    /// A catalog file merged over the bundled one (models, encodings, prices); see docs/CATALOG.md.
    public var catalogPath: String?
    /// On SIGTERM/SIGINT, how long running streams may continue before they are cut and settled.
    public var shutdownGrace: Duration = .seconds(10)
    /// Largest `max_tokens` a request may ask for when the model's own limit is unknown (tokens).
    public var maxTokensCeiling: Int = 1_000_000
    /// How long a ledger write waits for another process's lock (e.g. a backup or the CLI holding a write
    /// transaction) before it fails: a reservation then gets 503 `ledger_busy`, a settle is retried.
    public var ledgerBusyTimeout: Duration = .seconds(5)
    /// Most chat requests one API key may have in flight at once; more get 429 `rate_limit_exceeded`.
    /// nil (the default) sets no cap.
    public var maxConcurrentRequestsPerKey: Int?
    /// Whether the upstream request may start while the reservation commits, when the budget cannot limit
    /// the output cap (docs/SERVER.md). On by default: the connection, the headers and all of the body but its
    /// last byte go out meanwhile, and the last byte only once the reservation is durable, so a refused or
    /// failed reservation leaves the provider an unfinished request it cannot act on or bill. It took 0.3 ms
    /// off the time to first token of an ordinary request and 0.2-0.7 ms off a re-sent 535 KB conversation
    /// (docs/history/benchmarks-server-history-2026-12-06.md).
    public var earlyUpstreamStart = true
    /// How many threads run the upstream transfers (libcurl event loops, streams shared round robin);
    /// default 1. One thread served 500 streams on 2 cores at about 0.4 core; a second one there made no
    /// reliable difference to latency and cost about 6% more CPU (runs of 2026-11-29 17:33-17:52 UTC in
    /// docs/history/benchmarks-server-2026-11.md). More are for machines with more cores, where one
    /// thread's core would become the limit.
    public var upstreamThreads = 1
    /// Longest a request head (request line and header fields) may take from its first byte to its end; the
    /// connection is then closed. Bounds clients that trickle a head in (slowloris). Default 30 s.
    public var requestHeadTimeout: Duration = .seconds(30)
    /// How long a connection may have nothing to do before it is closed: no byte since it opened, no request
    /// part while a request is read, or no new request after the last response (keep-alive). Never applies
    /// while a response is written, so a stream of any length is not cut. Default 60 s.
    public var idleTimeout: Duration = .seconds(60)
    /// Most client connections open at once; further ones wait in the listen backlog (1024) until one closes.
    /// nil (the default) sets no cap.
    public var maxConnections: Int?
    /// Most memory (MiB) kept for the counts of messages already seen, so that a conversation re-sent with one
    /// more message is counted by its new message only (`MessageCountCache`); 0 turns the cache off. Default 64.
    public var promptCountCacheMiB = 64
    /// How much budget requests hold and how a stream's hold grows (docs/LEDGER.md, "Holds").
    public var holds = HoldPolicy()
    /// When a hidden-output model's stream ends without the provider's usage (cut, cancelled, failed,
    /// interrupted), the share (percent, 1-100) of its held output not delivered that is billed as an estimate
    /// of the hidden tokens the provider charged. 100 (the default) bills the bound: the cap sent upstream.
    public var unreportedHiddenOutputPercent = 100

    /// A configuration with explicit upstreams and defaults for everything else.
    public init(upstreams: [UpstreamConfiguration]) {
        self.upstreams = upstreams
    }

    /// The zero-config start: OpenAI when `OPENAI_API_KEY` is set, Anthropic for `claude-*` models when
    /// `ANTHROPIC_API_KEY` is set (for every model when it is the only key), otherwise Ollama's native API at
    /// `http://127.0.0.1:11434`; ledger `./tokenmeter.sqlite`; listen on 127.0.0.1:8080.
    public static func zeroConfig(environment: [String: String]) -> ServerConfiguration {
        var upstreams: [UpstreamConfiguration] = []
        if let key = environment["OPENAI_API_KEY"], !key.isEmpty {
            upstreams.append(UpstreamConfiguration(name: "openai", baseURL: "https://api.openai.com/v1", provider: .openAICompatible, apiKey: key))
        }
        if let key = environment["ANTHROPIC_API_KEY"], !key.isEmpty {
            upstreams.append(UpstreamConfiguration(name: "anthropic", baseURL: "https://api.anthropic.com", provider: .anthropic, apiKey: key))
        }
        guard !upstreams.isEmpty else {
            return ServerConfiguration(upstreams: [
                UpstreamConfiguration(name: "ollama", baseURL: "http://127.0.0.1:11434", provider: .ollama),
            ])
        }
        var configuration = ServerConfiguration(upstreams: upstreams)
        if upstreams.count == 2 { configuration.routes = [ModelRoute(model: "claude-*", upstream: "anthropic")] }
        return configuration
    }

    /// The upstream a model is routed to.
    func upstream(forModel model: String) -> UpstreamConfiguration? {
        if let route = routes.first(where: { $0.matches(model) }) {
            return upstreams.first { $0.name == route.upstream }
        }
        return upstreams.first
    }
}

/// Budget alerts (docs/ALERTS.md): each threshold of each monthly limit fires once per user and month, as a log
/// line, a metric and, with a webhook URL, a signed JSON POST retried with backoff.
public struct AlertSettings: Sendable {
    /// Percentages of each monthly limit. Default 80 and 100; an empty list turns alerts off.
    public var thresholdsPercent = [80, 100]
    /// Where alerts are POSTed; nil: log line and metric only.
    public var webhookURL: String?
    /// The HMAC-SHA256 key of the `X-TokenMeter-Signature` header; required with a webhook URL.
    public var webhookSecret: String?
    /// Attempts per alert before giving up (the first included). Default 8.
    public var webhookAttempts = 8
    /// The wait before the first retry; each later one doubles it (capped at 5 minutes). Default 1 s.
    public var firstRetry: Duration = .seconds(1)
    /// How often each instance looks for alerts whose sender stopped before they were delivered. Default 30 s.
    public var sweepInterval: Duration = .seconds(30)
    /// How long the sender of an alert keeps it before another instance (or a restart) may send it again; nil:
    /// the whole retry schedule (every wait and every attempt's 10 s timeout) and a minute more.
    public var resendAfter: Duration?

    /// ``resendAfter`` in effect.
    var claim: Duration {
        if let resendAfter { return resendAfter }
        var total = Duration.seconds(60) + .seconds(10) * webhookAttempts
        var wait = firstRetry
        for _ in 1..<max(1, webhookAttempts) {
            total += wait
            wait = min(wait * 2, .seconds(300))
        }
        return total
    }

    public init() {}

    func validate(origin: String) throws(ConfigurationError) {
        for t in thresholdsPercent where !(1...1000).contains(t) {
            throw ConfigurationError("\(origin): alerts.thresholds_percent holds \(t); each must be 1–1000")
        }
        guard Set(thresholdsPercent).count == thresholdsPercent.count else {
            throw ConfigurationError("\(origin): alerts.thresholds_percent lists a threshold twice")
        }
        guard (1...100).contains(webhookAttempts) else {
            throw ConfigurationError("\(origin): alerts.webhook_attempts must be 1–100")
        }
        if let url = webhookURL {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError("\(origin): alerts.webhook_url must be an http:// or https:// URL, got '\(url)'")
            }
            guard let secret = webhookSecret, secret.utf8.count >= 16 else {
                throw ConfigurationError("\(origin): alerts.webhook_url needs alerts.webhook_secret (at least 16 characters), "
                    + "the key that signs each call (or TOKENMETER_ALERTS_WEBHOOK_SECRET)")
            }
        }
    }
}

/// How gateways sharing a PostgreSQL ledger keep track of each other (docs/DEPLOYMENT.md).
public struct SharedLedgerSettings: Sendable {
    /// How often this instance refreshes its heartbeat and looks for instances that stopped. Default 5 s.
    public var heartbeatInterval: Duration = .seconds(5)
    /// How old an instance's heartbeat may get before the others settle its streams as `interrupted` from their
    /// last checkpoints. Default 30 s, so a dead instance's streams are settled within 35 s.
    public var instanceExpiry: Duration = .seconds(30)
    /// Most database connections this instance opens. Default 20.
    public var maxConnections = 20

    public init() {}
}

/// One upstream provider.
public struct UpstreamConfiguration: Sendable {
    /// The name routes and usage records use.
    public var name: String
    /// Base URL: OpenAI-compatible including `/v1`, or Ollama's root.
    public var baseURL: String
    /// Wire protocol.
    public var provider: Upstream.Provider
    /// The upstream's API key; never logged or sent to clients.
    public var apiKey: String?
    /// Connect / first-byte / idle deadlines in seconds.
    public var timeouts: ChatTimeouts
    /// How `POST /v1/responses` reaches this upstream: passed through to its own Responses API, or translated
    /// to chat completions.
    public var responses: ResponsesRoute
    /// For an Anthropic upstream: the `anthropic-version` header sent with every request (clients may send any).
    public var anthropicVersion = AnthropicWire.version

    /// Describes an upstream. `responses` nil: native for OpenAI itself (`api.openai.com`), translated for
    /// every other server, since most OpenAI-compatible servers speak chat completions only.
    public init(name: String, baseURL: String, provider: Upstream.Provider, apiKey: String? = nil,
                timeouts: ChatTimeouts = ChatTimeouts(), responses: ResponsesRoute? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.provider = provider
        self.apiKey = apiKey
        self.timeouts = timeouts
        let openAI = provider == .openAICompatible && URLComponents(string: baseURL)?.host?.lowercased() == "api.openai.com"
        self.responses = responses ?? (openAI ? .native : .translated)
    }

    /// The client library's description of this upstream.
    var clientUpstream: Upstream { Upstream(baseURL: baseURL, provider: provider, apiKey: apiKey) }

    /// This upstream as the client library calls its Responses API.
    var responsesUpstream: Upstream { Upstream(baseURL: baseURL, provider: .openAIResponses, apiKey: apiKey) }

    /// This upstream as the client library calls Anthropic's Messages API, with the configured `anthropic-version`.
    var anthropicUpstream: Upstream {
        Upstream(baseURL: baseURL, provider: .anthropic, apiKey: apiKey, headers: [("anthropic-version", anthropicVersion)])
    }
}

/// How an upstream serves the Responses API (`POST /v1/responses`).
public enum ResponsesRoute: String, Sendable {
    /// The upstream speaks the Responses API itself (OpenAI): requests and events pass through.
    case native
    /// The upstream speaks chat completions only: requests are translated to it, and its chunks into
    /// Responses events.
    case translated
}

/// Sends models matching `model` to the upstream called `upstream`. `model` is an exact name
/// (case-insensitive), a prefix ending in `*` (`gpt-*`), or `*` for everything.
public struct ModelRoute: Sendable, Hashable {
    /// The model pattern.
    public var model: String
    /// The upstream's name.
    public var upstream: String

    /// A route.
    public init(model: String, upstream: String) {
        self.model = model
        self.upstream = upstream
    }

    func matches(_ name: String) -> Bool {
        if model.hasSuffix("*") { return name.lowercased().hasPrefix(model.dropLast().lowercased()) }
        return model.lowercased() == name.lowercased()
    }
}
