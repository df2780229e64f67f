import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The PostgreSQL ledger, shared by several gateway instances: the same ``GatewayLedger`` contract as
/// ``SQLiteUsageStore`` on a database any number of TokenMeter processes use at once.
///
/// - Every accounting transaction of a user first locks that user's `user_holds` row, so reservations,
///   extensions, checkpoints and settles of one user are serialized across instances while different users
///   proceed in parallel; the budget check and the hold are one transaction, as in SQLite.
/// - The ``Role/owner`` (a server) registers an instance row and keeps its heartbeat; each owner also settles,
///   as `interrupted` from their last checkpoints, the reservations of instances whose heartbeat is older than
///   ``Configuration/instanceExpiry`` (docs/DEPLOYMENT.md).
/// - A connection is waited for at most ``Configuration/connectionWait``; past it, and on a connection lost
///   mid-query, calls throw ``LedgerError/databaseUnavailable(_:)`` (the gateway answers 503
///   `ledger_unavailable`).
public final class PostgresUsageStore: Sendable {
    /// The server it connects to, without the password (for messages and logs).
    public let location: String
    /// The settings it was opened with.
    public let configuration: Configuration
    /// How many reservations of expired instances were settled as `interrupted` when this store opened.
    public var recoveredReservations: Int { recovered.withLock { $0 } }

    let client: PostgresClient
    /// The pool's last failed connection attempt, for messages.
    let connectionFailures: ConnectionFailureLog
    let logger: Logger
    let coalescer: Mutex<CheckpointCoalescer>
    let authentication: Mutex<AuthenticationCache>
    /// Ends operations whose connection closes under them (see ``ClosedConnectionWatch``).
    let closedConnections = ClosedConnectionWatch()
    /// This process's row in `instances` (owner only); replaced if the row expired while the database was away.
    let instance = Mutex<Int64?>(nil)
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let recovered = Mutex(0)

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?sslmode=…]`), applies pending
    /// migrations, and, for an owner, registers this instance and settles the reservations of expired ones.
    /// Throws `.databaseUnavailable` naming the cause (no server, login refused, no such database) when no connection
    /// is made within ``Configuration/connectionWait``, `.cannotOpenDatabase` for a malformed URL, `.storage` for
    /// other failures.
    public static func open(url: String, configuration: Configuration = Configuration()) async throws -> PostgresUsageStore {
        let parsed = try PostgresURL(url)
        let store = PostgresUsageStore(parsed: parsed, configuration: configuration)
        do {
            try await store.migrate()
            if configuration.role == .owner {
                try await store.register()
                let recovered = try await store.expireInstances()
                store.recovered.withLock { $0 = recovered }
                store.startHeartbeat()
            }
            return store
        } catch {
            // Not awaited: the pool's shutdown can wait for a connection attempt, and the caller should hear at once.
            store.tasks.withLock { tasks in for task in tasks { task.cancel() } }
            throw error
        }
    }

    private init(parsed: PostgresURL, configuration: Configuration) {
        self.location = parsed.displayLocation
        self.configuration = configuration
        self.logger = configuration.logger
        self.coalescer = Mutex(CheckpointCoalescer(policy: .init(
            interval: configuration.checkpointInterval, tokenStride: configuration.checkpointTokenStride)))
        self.authentication = Mutex(AuthenticationCache(timeToLive: configuration.authenticationCacheTTL))
        var options = PostgresClient.Configuration.Options()
        options.maximumConnections = configuration.maximumConnections
        options.connectTimeout = configuration.connectionWait
        var pg = PostgresClient.Configuration(host: parsed.host, port: parsed.port, username: parsed.user,
                                              password: parsed.password, database: parsed.database, tls: parsed.tls)
        pg.options = options
        let failures = ConnectionFailureLog()
        self.connectionFailures = failures
        // PostgresNIO logs every failed connection attempt at info level, several per second while the database is
        // down; the log handler keeps the last one instead, and an operation that gives up names it.
        let client = PostgresClient(configuration: pg, backgroundLogger: Logger(label: "tokenmeter.ledger.postgres.pool") { _ in
            failures
        })
        self.client = client
        tasks.withLock { $0 = [Task { await client.run() }] }
    }

    /// Ends this process's use of the ledger: writes held-back checkpoints, settles as `interrupted` any
    /// reservation this instance still holds (none after a graceful server shutdown), removes the instance row and
    /// closes the connections. Any later call fails.
    public func close() async throws {
        var failure: (any Error)?
        do { try await flushCheckpoints() } catch { failure = error }
        for task in tasks.withLock({ $0.dropFirst() }) { task.cancel() }
        if let id = instance.withLock({ $0 }) {
            // Ages only this instance's heartbeat, so the expiry settles what it still holds (nothing after a graceful
            // shutdown) and removes its row, and leaves every live instance alone.
            let expiry = expiryMilliseconds
            do {
                _ = try await write { c in
                    try await c.query("UPDATE instances SET heartbeat_at = 0 WHERE id = \(id)", logger: self.logger)
                    return try await Self.expire(c, except: nil, expiryMilliseconds: expiry, logger: self.logger)
                }
            } catch { failure = failure ?? error }
        }
        await shutDownClient()
        if let failure { throw failure }
    }

    /// Stops this store as a killed process would: heartbeats end and connections drop, nothing is written, the
    /// instance row stays for the others to expire. For tests of what survivors do.
    func abandon() async {
        await shutDownClient()
    }

    private func shutDownClient() async {
        let all = tasks.withLock { t in defer { t = [] }; return t }
        for task in all { task.cancel() }
        for task in all { await task.value }
    }

    /// The schema version (name of the last applied migration).
    public func schemaVersion() async throws -> String? {
        try await read { c in
            let rows = try await c.query("SELECT name FROM tokenmeter_migrations ORDER BY name DESC LIMIT 1", logger: self.logger)
            for try await (name) in rows.decode(String.self) { return name }
            return nil
        }
    }

    // MARK: - Migrations and instances

    private func migrate() async throws {
        try await write { c in
            try await c.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.advisoryLock))", logger: self.logger)
            try await c.query("""
                CREATE TABLE IF NOT EXISTS tokenmeter_migrations (
                    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: self.logger)
            var applied = Set<String>()
            for try await name in try await c.query("SELECT name FROM tokenmeter_migrations", logger: self.logger)
                .decode(String.self) { applied.insert(name) }
            for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await c.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await c.query("INSERT INTO tokenmeter_migrations (name) VALUES (\(migration.name))", logger: self.logger)
            }
        }
    }

    private func register() async throws {
        let name = configuration.instanceName
        let id = try await write { c in
            let rows = try await c.query("""
                INSERT INTO instances (name, started_at, heartbeat_at)
                VALUES (\(name), \(unescaped: PostgresMigrations.nowMilliseconds), \(unescaped: PostgresMigrations.nowMilliseconds))
                RETURNING id
                """, logger: self.logger)
            for try await id in rows.decode(Int64.self) { return id }
            throw LedgerError.storage("registering the instance returned no id")
        }
        instance.withLock { $0 = id }
    }

    /// Refreshes this instance's heartbeat, registering it again if its row expired meanwhile (the database was
    /// unreachable for longer than the expiry, and another instance settled its reservations).
    func heartbeat() async throws {
        guard let id = instance.withLock({ $0 }) else { return }
        let alive = try await write { c in
            let rows = try await c.query("""
                UPDATE instances SET heartbeat_at = \(unescaped: PostgresMigrations.nowMilliseconds) WHERE id = \(id) RETURNING id
                """, logger: self.logger)
            for try await _ in rows { return true }
            return false
        }
        if !alive {
            logger.warning("ledger instance row expired while the database was unreachable; registering again",
                           metadata: ["instance": "\(id)"])
            try await register()
        }
    }

    /// Settles the reservations of instances whose heartbeat expired; returns how many records that wrote.
    @discardableResult
    func expireInstances() async throws -> Int {
        let me = instance.withLock { $0 }
        let expiry = expiryMilliseconds
        return try await write { c in try await Self.expire(c, except: me, expiryMilliseconds: expiry, logger: self.logger) }
    }

    /// ``Configuration/instanceExpiry`` in milliseconds.
    private var expiryMilliseconds: Int64 {
        let e = configuration.instanceExpiry.components
        return e.seconds * 1000 + e.attoseconds / 1_000_000_000_000_000
    }

    private static func expire(_ c: PostgresConnection, except me: Int64?, expiryMilliseconds: Int64,
                               logger: Logger) async throws -> Int {
        let rows = try await c.query("SELECT tokenmeter_expire_instances(\(me), \(expiryMilliseconds))", logger: logger)
        for try await n in rows.decode(Int64.self) { return Int(n) }
        return 0
    }

    /// Every ``Configuration/heartbeatInterval``: the heartbeat, then the expiry of instances that stopped.
    private func startHeartbeat() {
        let interval = configuration.heartbeatInterval
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                do {
                    try await self.heartbeat()
                    let settled = try await self.expireInstances()
                    if settled > 0 {
                        self.logger.notice("settled the reservations of an expired gateway instance as interrupted",
                                           metadata: ["records": "\(settled)"])
                    }
                } catch {
                    if Task.isCancelled || error is CancellationError { return }  // closing
                    self.logger.warning("ledger heartbeat failed", metadata: ["error": "\(error)"])
                }
            }
        }
        tasks.withLock { $0.append(task) }
    }

    // MARK: - Database access with ledger errors

    /// Runs `body` on a pooled connection inside `begin … COMMIT` (rolled back when it throws).
    func write<T: Sendable>(begin: String = "BEGIN",
                            _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { c in
            try await c.query(PostgresQuery(unsafeSQL: begin), logger: self.logger)
            do {
                let value = try await body(c)
                try await c.query("COMMIT", logger: self.logger)
                return value
            } catch {
                _ = try? await c.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    /// How a ``pipelinedWrite(_:)`` ends: one last statement sent together with `COMMIT` (`decode` reads its result;
    /// `refusal` turns its error into the ledger's, or nil to report it as it is), or nothing more to write.
    enum PipelinedEnd<T: Sendable>: Sendable {
        case write(PostgresQuery, decode: @Sendable (PostgresQueryResult) throws -> T,
                   refusal: @Sendable (PSQLError) -> (any Error)? = { _ in nil })
        case done(T)
    }

    /// A transaction in two round trips instead of four, for the accounting steps on the time to first token
    /// (reserve, extend): `BEGIN` is queued on the connection together with `body`'s first statement, and the last
    /// statement together with `COMMIT`, so the connection sends each pair without waiting for this task in between.
    /// A failed last statement makes PostgreSQL answer the `COMMIT` with a rollback; a `body` that throws rolls back.
    func pipelinedWrite<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> PipelinedEnd<T>)
        async throws -> T {
        try await withConnection { c in
            let begun: EventLoopFuture<PostgresQueryResult> = c.query("BEGIN", logger: self.logger)
            let end: PipelinedEnd<T>
            do {
                end = try await body(c)
                _ = try await begun.get()
            } catch {
                _ = try? await begun.get()
                _ = try? await c.query("ROLLBACK", logger: self.logger)
                throw error
            }
            switch end {
            case .done(let value):
                try await c.query("COMMIT", logger: self.logger)
                return value
            case .write(let query, let decode, let refusal):
                let written: EventLoopFuture<PostgresQueryResult> = c.query(query, logger: self.logger)
                let committed: EventLoopFuture<PostgresQueryResult> = c.query("COMMIT", logger: self.logger)
                let result: PostgresQueryResult
                do {
                    result = try await written.get()
                } catch let error as PSQLError {
                    _ = try? await committed.get()
                    throw refusal(error) ?? error
                }
                _ = try await committed.get()
                return try decode(result)
            }
        }
    }

    /// Runs `body` on a pooled connection, each statement on its own (autocommit).
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection(body)
    }

    /// A write that may change who authenticates or with which budget: the authentication cache is emptied
    /// once it has committed (and if it failed part-way, to be safe). Other instances see it within their TTL.
    func administrativeWrite<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        defer { authentication.withLock { $0.invalidateAll() } }
        return try await write(body)
    }

    /// Leases a connection for `body`, waiting at most ``Configuration/connectionWait`` for one. Only the wait is
    /// bounded: once `body` has its connection it runs to the end (cancelling a half-sent transaction could leave
    /// it committed while the caller believes it failed). Errors become ``LedgerError``.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let gate = LeaseGate()
        let wait = configuration.connectionWait
        let location = self.location
        let failures = connectionFailures
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await self.client.withConnection { c in
                        guard gate.begin() else { throw CancellationError() }
                        return try await self.closedConnections.run(on: c, location: location) { try await body(c) }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: wait)
                    if gate.expire() {
                        let reason = failures.last.map { ": \($0)" } ?? ""
                        throw LedgerError.databaseUnavailable("no connection to PostgreSQL at \(location) within \(wait)\(reason)")
                    }
                    return nil
                }
                while let next = try await group.next() {
                    if let value = next {
                        group.cancelAll()
                        return value
                    }
                }
                throw LedgerError.storage("a ledger operation ended without a result")
            }
        } catch {
            throw Self.ledgerError(error, location: location)
        }
    }

    /// `error` as the ledger reports it: ledger and cancellation errors pass through; PostgreSQL errors are
    /// classified by SQLSTATE or by what happened to the connection.
    static func ledgerError(_ error: any Error, location: String) -> any Error {
        switch error {
        case let e as LedgerError: return e
        case let e as PlanningRefusal: return e
        case let e as InstanceExpired: return e
        case let e as CancellationError: return e
        case let e as PSQLError:
            if let state = e.serverInfo?[.sqlState] {
                let message = e.serverInfo?[.message] ?? "\(e)"
                switch state {
                case "TM001": return LedgerError.storage("no open reservation: \(message)")
                case "40P01", "40001", "55P03", "57014": return LedgerError.databaseBusy("\(location): \(message)")
                case "57P01", "57P02", "57P03", "08000", "08003", "08006", "53300":
                    return LedgerError.databaseUnavailable("PostgreSQL at \(location): \(message)")
                case "28000", "28P01", "3D000":
                    return LedgerError.cannotOpenDatabase(path: location, reason: message)
                default: return LedgerError.storage("\(message) (SQLSTATE \(state))")
                }
            }
            switch e.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
                 .sslUnsupported:
                return LedgerError.databaseUnavailable("PostgreSQL at \(location): connection lost (\(e.code))")
            case .queryCancelled: return CancellationError()
            default: return LedgerError.storage("PostgreSQL at \(location): \(String(reflecting: e))")
            }
        default:
            let text = "\(error)"
            if text.contains("ConnectionPoolError") || text.contains("connectionCreationCircuitBreakerTripped") {
                return LedgerError.databaseUnavailable("PostgreSQL at \(location): \(text)")
            }
            return LedgerError.storage("\(error)")
        }
    }
}

extension PostgresUsageStore: GatewayLedger {}

/// Who may still use a leased connection: the operation (``begin()``) or, once the wait is over, nobody
/// (``expire()``); whichever comes first wins.
private final class LeaseGate: Sendable {
    private let state = Atomic<Int>(0)

    /// Claims the connection for the operation; false when the wait already expired.
    func begin() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }

    /// Ends the wait; false when the operation already has its connection.
    func expire() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
}

/// A log handler for the connection pool's background logger that keeps the last failed connection attempt
/// (`psql_error`, reduced to the server's message or the socket error) and drops the rest.
final class ConnectionFailureLog: LogHandler, @unchecked Sendable {
    private let lastFailure = Mutex<(message: String, at: ContinuousClock.Instant)?>(nil)

    /// The last failure, if it happened in the last 30 seconds.
    var last: String? {
        lastFailure.withLock { entry in
            guard let entry, entry.at.duration(to: .now) < .seconds(30) else { return nil }
            return entry.message
        }
    }

    // The pool logger is configured once and only read here; these satisfy the protocol.
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .info }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        guard let error = metadata?["psql_error"] else { return }
        let text = "\(error)"
        lastFailure.withLock { $0 = (Self.reason(text), .now) }
    }

    /// The useful part of a logged `PSQLError`: the server's message, or the connection error.
    static func reason(_ text: String) -> String {
        if let start = text.range(of: "message: ") {
            let rest = text[start.upperBound...]
            return String(rest.prefix { $0 != "," && $0 != "]" })
        }
        if let errno = text.range(of: " (errno") {
            // "… error: connection reset (error set): Connection refused) (errno: 111)" → "Connection refused"
            let before = text[..<errno.lowerBound]
            let last = before.components(separatedBy: ": ").last ?? String(before)
            return last.trimmingCharacters(in: CharacterSet(charactersIn: ")"))
        }
        return text
    }
}

/// Ends an operation as soon as its connection closes. PostgresNIO 1.33.2 hands a query to a connection that has just
/// closed without failing it, and the query then never completes (found by SharedLedgerServeTests: after a database
/// restart, checkpoint writes, settles and the graceful shutdown waited forever). A closed connection can commit
/// nothing more, so giving up on it is safe, unlike cancelling a live transaction: the operation's task is left to
/// its stuck query and holds nothing else. (A COMMIT the server executed just before the connection dropped is
/// reported as failed, as with any database client.) One close callback per connection, not per operation: a
/// pooled connection serves millions of operations.
final class ClosedConnectionWatch: Sendable {
    private struct Watched {
        var closed = false
        /// The operation running on the connection (a lease runs one at a time).
        var running: (@Sendable (any Error) -> Void)?
    }
    private let connections = Mutex<[PostgresConnection.ID: Watched]>([:])

    /// Runs `body` on `connection` and returns its result, or throws `.databaseUnavailable` once the connection closes.
    func run<T: Sendable>(on connection: PostgresConnection, location: String,
                          _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = FirstResult<T>()
        let closed = LedgerError.databaseUnavailable("PostgreSQL at \(location): the connection closed")
        let (isNew, alreadyClosed) = connections.withLock { all -> (Bool, Bool) in
            let isNew = all[connection.id] == nil
            var watched = all[connection.id] ?? Watched()
            watched.running = { outcome.resume(.failure($0)) }
            all[connection.id] = watched
            return (isNew, watched.closed)
        }
        if alreadyClosed { throw closed }
        if isNew {
            connection.closeFuture.whenComplete { [weak self] _ in
                let running = self?.connections.withLock { all in
                    defer { all[connection.id] = nil }
                    return all[connection.id]?.running
                }
                running??(closed)
            }
        }
        defer { connections.withLock { $0[connection.id]?.running = nil } }
        let work = Task {
            do { outcome.resume(.success(try await body())) } catch { outcome.resume(.failure(error)) }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { outcome.install($0) }
        } onCancel: {
            work.cancel()
        }
    }
}

/// A continuation resumed by whichever result comes first (the work's, or the connection closing); later ones are
/// dropped.
private final class FirstResult<T: Sendable>: Sendable {
    private enum State {
        case waiting
        case installed(CheckedContinuation<T, any Error>)
        case early(Result<T, any Error>)
        case done
    }
    private let state = Mutex<State>(.waiting)

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            switch state {
            case .waiting: state = .installed(continuation); return nil
            case .early(let result): state = .done; return result
            case .installed, .done: return nil
            }
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(_ result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            switch state {
            case .waiting: state = .early(result); return nil
            case .installed(let c): state = .done; return c
            case .early, .done: return nil
            }
        }
        continuation?.resume(with: result)
    }
}
