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
    var ledgerConfiguration = SQLiteUsageStore.Configuration()
    ledgerConfiguration.role = .owner
    ledgerConfiguration.checkpointInterval = configuration.checkpointInterval
    ledgerConfiguration.busyTimeout = configuration.ledgerBusyTimeout
    let store = try SQLiteUsageStore(path: configuration.databasePath, configuration: ledgerConfiguration)
    if store.recoveredReservations > 0 {
        logger.notice("recovered interrupted requests from the last run", metadata: ["count": "\(store.recoveredReservations)"])
    }
    if try await store.listUsers().isEmpty {
        logger.notice("""
            the ledger at \(configuration.databasePath) has no users yet; create one and a key with:
                tokenmeter users add alice --db \(configuration.databasePath) --monthly-usd 10
                tokenmeter keys create alice --db \(configuration.databasePath)
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
    let settlement = Settlement(store: store, metrics: metrics)
    let gateway = Gateway(configuration: configuration, store: store, catalog: catalog, client: client,
                          metrics: metrics, logger: logger, settlement: settlement,
                          concurrency: KeyConcurrencyLimiter(limit: configuration.maxConcurrentRequestsPerKey),
                          connections: connections)

    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.addRoutes(gateway.operationsRoutes())
    router.group("v1").add(middleware: APIKeyMiddleware(store: store))
        .addRoutes(gateway.chatRoutes())
        .addRoutes(gateway.accountRoutes())
    router.group("admin").add(middleware: AdminKeyMiddleware(adminKey: configuration.adminKey))
        .addRoutes(gateway.adminRoutes())

    let headTimeout = configuration.requestHeadTimeout
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ConnectionCloseHandler(signals: connections),
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
        services: [CheckpointFlusher(store: store, settlement: settlement, interval: configuration.checkpointInterval, logger: logger)],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}
