import Logging
import Synchronization
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterLedger

/// The gateway's shared dependencies, composed once per application: the ledger, the catalog, the
/// upstream client, settlement and metrics. Route collections and middleware hold it by value; every
/// member is Sendable.
struct Gateway: Sendable {
    /// The configuration the app was built with.
    let configuration: ServerConfiguration
    /// The ledger (owner role: it recovers interrupted reservations on open).
    let store: any GatewayLedger
    /// Models, encodings and prices.
    let catalog: ModelCatalog
    /// The libcurl upstream client.
    let client: ChatClient
    /// Prometheus metrics.
    let metrics: GatewayMetrics
    /// The app logger; requests log through their context's logger (with the request id).
    let logger: Logger
    /// Budget status per user after their last reservation (decides whether the upstream may start early).
    let budgetHints = BudgetHints()
    /// Writes every request's usage record and retries the ones the ledger could not take.
    let settlement: Settlement
    /// The per-key cap on chat requests in flight.
    let concurrency: KeyConcurrencyLimiter
    /// Each client connection's close signal, for the chat route's disconnect watch.
    let connections: ConnectionCloseSignals
    /// Upstreams already warned about for usage the client could not read (the warning is logged once each).
    let unreadableUsageUpstreams = NameSet()
    /// Counts of messages already seen (`prompt_count_cache_mib`): a re-sent history costs only its new messages.
    let messageCounts: MessageCountCache
    /// Budget alerts: checked after settles and refusals, sent off the request path (docs/ALERTS.md).
    let alerts: BudgetAlerts
}

/// A set of names shared by tasks: ``insert(_:)`` says whether a name is new.
final class NameSet: Sendable {
    private let names = Mutex(Set<String>())
    /// Adds `name`; true when it was not there yet.
    func insert(_ name: String) -> Bool { names.withLock { $0.insert(name).inserted } }
}
