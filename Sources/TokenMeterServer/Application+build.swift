import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterLedger

/// Builds the TokenMeter gateway: opens the ledger (as its owner, recovering interrupted reservations),
/// loads the catalog, starts the upstream client, and wires the routes:
///
/// - `POST /v1/chat/completions`, `GET /v1/models`, `GET /v1/usage?month=YYYY-MM` (caller's key)
/// - `/admin/...` (admin key from the configuration)
/// - `/console` (the operator's web console, signed in with the admin key; docs/CONSOLE.md)
/// - `GET /healthz`, `GET /metrics`
///
/// The returned application also runs a background service that flushes ledger checkpoints every
/// `checkpointInterval` and once more at shutdown. Run it with `runService()` (SIGTERM/SIGINT shut it down
/// gracefully) or inside a `ServiceGroup`.
public func buildApplication(
    _ configuration: ServerConfiguration,
    logger: Logger = Logger(label: "tokenmeter"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let location = LedgerLocation(configuration.databasePath)
    let (store, recovered) = try await openLedger(at: location, configuration, logger: logger)
    if recovered > 0 {
        logger.notice("settled interrupted requests left open by a stopped instance", metadata: ["count": "\(recovered)"])
    }
    if try await store.listUsers().isEmpty {
        let db = location.description.contains(" ") ? "'\(location)'" : "\(location)"
        logger.notice("""
            the ledger at \(location) has no users yet; create one and a key with:
                tokenmeter users add alice --db \(db) --monthly-usd 10
                tokenmeter keys create alice --db \(db)
            then call the server with that key as the OpenAI API key (base URL http://\(configuration.host):\(configuration.port)/v1)
            """)
    }
    var catalog = try ModelCatalog.bundled()
    if let path = configuration.catalogPath { catalog = try catalog.merging(fileAt: path) }
    // Every stream holds one upstream connection; keep as many idle for reuse as a busy gateway has streams
    // (curl's default would close all but 64 when a burst of streams ends, and reconnect for the next).
    let client = try ChatClient(configuration: .init(maxIdleConnections: 1024, eventLoopThreads: configuration.upstreamThreads))
    let connections = ConnectionCloseSignals()
    let metrics = GatewayMetrics()
    let alerts = BudgetAlerts(store: store, settings: configuration.alerts, metrics: metrics, logger: logger)
    let settlement = Settlement(store: store, metrics: metrics, alerts: alerts)
    let gateway = Gateway(configuration: configuration, store: store, catalog: catalog, client: client,
                          metrics: metrics, logger: logger, settlement: settlement,
                          concurrency: KeyConcurrencyLimiter(limit: configuration.maxConcurrentRequestsPerKey),
                          connections: connections,
                          messageCounts: MessageCountCache(capacityBytes: configuration.promptCountCacheMiB << 20),
                          alerts: alerts)

    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.addRoutes(gateway.operationsRoutes())
    router.group("v1").add(middleware: APIKeyMiddleware(store: store))
        .addRoutes(gateway.chatRoutes())
        .addRoutes(gateway.accountRoutes())
    router.group("admin").add(middleware: AdminKeyMiddleware(adminKey: configuration.adminKey))
        .addRoutes(gateway.adminRoutes())
    router.addRoutes(gateway.consoleRoutes(
        sessions: configuration.adminKey.map { ConsoleSessions(adminKey: $0, lifetime: configuration.consoleSession) }))

    let headTimeout = configuration.requestHeadTimeout
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ReceiveBufferSizing(), ConnectionCloseHandler(signals: connections),
                                    RequestHeadTimeoutHandler(timeout: headTimeout, logger: logger)],
        idleTimeout: TimeAmount(configuration.idleTimeout))
    // Beyond `maxConnections` the server stops accepting, and new connections wait in the kernel's listen
    // backlog until one closes, rather than being accepted and refused: they cost the process nothing while
    // they wait (the cap is there to bound file descriptors and memory), a burst just above the cap is served
    // a moment later instead of failing, and clients' own connect timeouts still bound the wait. Once the
    // backlog is full as well, the kernel drops further SYNs and clients retry. NIO accepts up to four
    // connections per wake-up of the listening socket, so connections arriving at the same instant can pass
    // the cap by up to three.
    let connectionLimit = configuration.maxConnections.map { MaximumAvailableConnections($0, logger: logger) }
    return Application(
        router: router,
        server: .http1(configuration: http1),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "TokenMeter",
                             backlog: 1024, availableConnectionsDelegate: connectionLimit),
        services: [CheckpointFlusher(store: store, settlement: settlement, interval: configuration.checkpointInterval, logger: logger),
                   AlertSweeper(alerts: alerts, interval: configuration.alerts.sweepInterval)],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// Opens the ledger as this gateway's owner: a SQLite file (taking its instance lock and settling what a crashed
/// predecessor left open), or a shared PostgreSQL database (registering an instance with a heartbeat and settling
/// the streams of instances that stopped). Returns it with the number of requests settled as `interrupted`.
func openLedger(at location: LedgerLocation, _ configuration: ServerConfiguration,
                logger: Logger) async throws -> (any GatewayLedger, Int) {
    switch location {
    case .sqlite(let path):
        var settings = SQLiteUsageStore.Configuration()
        settings.role = .owner
        settings.checkpointInterval = configuration.checkpointInterval
        settings.busyTimeout = configuration.ledgerBusyTimeout
        let store = try SQLiteUsageStore(path: path, configuration: settings)
        return (store, store.recoveredReservations)
    case .postgres(let url):
        var settings = PostgresUsageStore.Configuration()
        settings.role = .owner
        settings.checkpointInterval = configuration.checkpointInterval
        // The same bound as a locked SQLite file: a reservation waits this long for the database, then gets 503.
        settings.connectionWait = configuration.ledgerBusyTimeout
        settings.heartbeatInterval = configuration.sharedLedger.heartbeatInterval
        settings.instanceExpiry = configuration.sharedLedger.instanceExpiry
        settings.maximumConnections = configuration.sharedLedger.maxConnections
        settings.logger = logger
        let store = try await PostgresUsageStore.open(url: url, configuration: settings)
        return (store, store.recoveredReservations)
    }
}
