import CoreMetrics
import Prometheus
import Synchronization
import TokenMeterLedger

/// The gateway's Prometheus metrics, through swift-metrics with an app-owned factory (no global
/// bootstrap, so several apps can live in one process, as in the tests).
///
/// - `tokenmeter_requests_total{status}`: settled chat requests by ledger status, plus `rejected` for
///   refusals before the upstream call.
/// - `tokenmeter_prompt_tokens_total`, `tokenmeter_completion_tokens_total`: billed tokens.
/// - `tokenmeter_cost_picousd_total`: billed cost in pico-USD (10^-12 USD).
/// - `tokenmeter_active_streams`: requests between reservation and settlement.
/// - `tokenmeter_budget_cuts_total`: streams ended by the budget.
/// - `tokenmeter_upstream_ttft_seconds`: histogram of the upstream's time to first event.
/// - `tokenmeter_hold_extensions_total{outcome}`: a stream's hold grew (`granted`), found nothing free
///   (`refused`), or the ledger failed (`failed`).
/// - `tokenmeter_hold_waits_total`: deltas that waited for their stream's hold to grow.
/// - `tokenmeter_budget_alerts_total{limit, threshold}`: budget alerts fired (docs/ALERTS.md).
/// - `tokenmeter_alert_webhook_calls_total{outcome}`: webhook attempts: `delivered`, `failed` (retried), `gave_up`.
struct GatewayMetrics: Sendable {
    /// The registry `/metrics` renders.
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let promptTokens: CoreMetrics.Counter
    private let completionTokens: CoreMetrics.Counter
    private let cost: CoreMetrics.Counter
    private let activeStreams: CoreMetrics.Meter
    private let budgetCuts: CoreMetrics.Counter
    private let ttft: CoreMetrics.Timer
    private let holdWaits: CoreMetrics.Counter
    /// Streams between reservation and settlement, readable (the console shows it); the meter above exports it.
    private let live = LiveCount()

    private final class LiveCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Metrics in a fresh registry.
    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        ]
        self.factory = factory
        promptTokens = CoreMetrics.Counter(label: "tokenmeter_prompt_tokens_total", factory: factory)
        completionTokens = CoreMetrics.Counter(label: "tokenmeter_completion_tokens_total", factory: factory)
        cost = CoreMetrics.Counter(label: "tokenmeter_cost_picousd_total", factory: factory)
        activeStreams = CoreMetrics.Meter(label: "tokenmeter_active_streams", factory: factory)
        budgetCuts = CoreMetrics.Counter(label: "tokenmeter_budget_cuts_total", factory: factory)
        ttft = CoreMetrics.Timer(label: "tokenmeter_upstream_ttft_seconds", factory: factory)
        holdWaits = CoreMetrics.Counter(label: "tokenmeter_hold_waits_total", factory: factory)
    }

    /// How an extension of a stream's hold went.
    enum HoldExtension: String {
        case granted, refused, failed
    }

    /// A stream asked for its hold to grow.
    func holdExtended(_ outcome: HoldExtension) {
        CoreMetrics.Counter(label: "tokenmeter_hold_extensions_total", dimensions: [("outcome", outcome.rawValue)],
                            factory: factory).increment()
    }

    /// A delta waited for its stream's hold to grow.
    func holdWait() { holdWaits.increment() }

    /// A request was refused before any upstream call (bad input, auth, quota).
    func rejected() {
        CoreMetrics.Counter(label: "tokenmeter_requests_total", dimensions: [("status", "rejected")], factory: factory).increment()
    }

    /// A reservation was taken.
    func streamStarted() {
        activeStreams.increment()
        live.value.add(1, ordering: .relaxed)
    }

    /// Requests between reservation and settlement on this instance.
    var liveStreams: Int { live.value.load(ordering: .relaxed) }

    /// A budget alert fired.
    func alertFired(_ alert: BudgetAlertEvent) {
        CoreMetrics.Counter(label: "tokenmeter_budget_alerts_total",
                            dimensions: [("limit", alert.limit.rawValue), ("threshold", "\(alert.thresholdPercent)")],
                            factory: factory).increment()
    }

    /// A webhook attempt ended: `delivered`, `failed` (to be retried) or `gave_up`.
    func alertWebhookCall(_ outcome: String) {
        CoreMetrics.Counter(label: "tokenmeter_alert_webhook_calls_total", dimensions: [("outcome", outcome)],
                            factory: factory).increment()
    }

    /// The upstream's first event arrived `duration` after the request started.
    func firstEvent(after duration: Duration) { ttft.recordNanoseconds(duration.nanoseconds) }

    /// A request was settled with `usage` and `status`.
    func settled(_ usage: MeteredUsage, status: UsageStatus) {
        activeStreams.decrement()
        live.value.subtract(1, ordering: .relaxed)
        CoreMetrics.Counter(label: "tokenmeter_requests_total", dimensions: [("status", status.rawValue)], factory: factory).increment()
        let prompt = usage.billedBy == .provider ? usage.provider?.promptTokens ?? 0 : usage.promptTokens
        let completion = usage.billedBy == .provider ? usage.provider?.completionTokens ?? 0 : usage.completionTokens
        promptTokens.increment(by: prompt)
        completionTokens.increment(by: completion)
        cost.increment(by: usage.cost.picoUSD)
        if status == .cutByBudget { budgetCuts.increment() }
    }

    /// The exposition text.
    func render() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s.multipliedReportingOverflow(by: 1_000_000_000).partialValue + atto / 1_000_000_000
    }
}
