import Foundation
import GRDB
import Synchronization

/// The SQLite ledger: one GRDB `DatabasePool` (WAL mode) for the life of the process, implementing
/// ``UsageStore`` for the server and ``LedgerAdministration`` for the CLI and admin routes.
///
/// Opening it applies pending migrations and, for the ``Role/owner``, settles every reservation a
/// crashed predecessor left open as `interrupted` from its last checkpoint (``recoveredReservations``).
/// Writes go through the pool's single writer in `BEGIN IMMEDIATE` transactions, so a reservation's
/// budget check and hold are atomic, also against other processes on the same file.
public final class SQLiteUsageStore: Sendable {
    /// Path of the database file.
    public let path: String
    /// The settings it was opened with.
    public let configuration: Configuration
    /// How many open reservations were settled as `interrupted` when this store opened (owner only).
    public let recoveredReservations: Int

    let pool: DatabasePool
    /// Group commit for reservations (see ``WriteBatcher``).
    let batcher: WriteBatcher
    let coalescer: Mutex<CheckpointCoalescer>
    /// Recent authentications (see ``AuthenticationCache``); emptied by every administrative write.
    let authentication: Mutex<AuthenticationCache>
    private let instanceLock: InstanceLock?

    /// Opens (or creates) the ledger at `path`, migrates it to the current schema, and recovers
    /// interrupted reservations when `configuration.role` is `.owner`.
    ///
    /// Throws `.databaseNotFound`, `.cannotCreateDatabase`, `.cannotOpenDatabase`, `.databaseInUse`
    /// (another owner holds the file) or `.databaseBusy`.
    public init(path: String, configuration: Configuration = Configuration()) throws(LedgerError) {
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !configuration.createIfMissing { throw .databaseNotFound(path: path) }
        self.path = path
        self.configuration = configuration
        self.instanceLock = configuration.role == .owner ? try InstanceLock(databasePath: path) : nil
        self.coalescer = Mutex(CheckpointCoalescer(policy: .init(
            interval: configuration.checkpointInterval, tokenStride: configuration.checkpointTokenStride)))
        self.authentication = Mutex(AuthenticationCache(timeToLive: configuration.authenticationCacheTTL))

        var grdb = GRDB.Configuration()
        grdb.foreignKeysEnabled = true
        grdb.busyMode = .timeout(Self.seconds(configuration.busyTimeout))
        grdb.label = "TokenMeterLedger"
        do {
            pool = try DatabasePool(path: path, configuration: grdb)
        } catch {
            throw exists ? .cannotOpenDatabase(path: path, reason: "\(error)")
                         : .cannotCreateDatabase(path: path, reason: "\(error)")
        }
        batcher = WriteBatcher(pool: pool, busyTimeout: configuration.busyTimeout)
        do {
            // GRDB sets synchronous=NORMAL while switching the writer to WAL; set ours after it.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(configuration.durability.rawValue)")
            }
            try LedgerMigrations.migrator.migrate(pool)
            recoveredReservations = configuration.role == .owner ? try pool.write(Self.recoverOpenReservations) : 0
        } catch {
            throw (Self.ledgerError(error, path: path) as? LedgerError) ?? .storage("\(error)")
        }
    }

    /// Ends this store's use of the ledger: writes held-back checkpoints, closes the database, and
    /// releases ownership (the instance lock), so another owner can open the file at once. Call it
    /// after the last request has settled (the server does, at the end of its graceful shutdown).
    /// Any later call on this store fails.
    public func close() async throws(LedgerError) {
        do {
            try await flushCheckpoints()
            try pool.close()
        } catch {
            instanceLock?.release()
            throw (error as? LedgerError) ?? .storage("\(error)")
        }
        instanceLock?.release()
    }

    /// The schema version (name of the last applied migration).
    public func schemaVersion() async throws -> String? {
        try await read { db in try LedgerMigrations.migrator.appliedIdentifiers(db).sorted().last }
    }

    /// Settles every open reservation as `interrupted` with its last checkpointed usage and deletes it, in
    /// the caller's transaction. Idempotent: a reservation whose request id already has a record is only
    /// deleted. Returns how many records were written.
    static func recoverOpenReservations(_ db: Database) throws -> Int {
        let columns = UsageColumns.names.joined(separator: ", ")
        try db.execute(sql: """
            INSERT INTO usage_records
                (request_id, user_id, api_key_id, model, upstream, started_at, ended_at, status, overrun_pusd, \(columns))
            SELECT request_id, user_id, api_key_id, model, upstream, started_at,
                   COALESCE(checkpoint_at, started_at), '\(UsageStatus.interrupted.rawValue)', MAX(0, cost_pusd - held_pusd),
                   \(columns)
            FROM reservations
            WHERE request_id NOT IN (SELECT request_id FROM usage_records)
            ORDER BY id
            """)
        let recovered = db.changesCount
        try db.execute(sql: "DELETE FROM reservations")
        return recovered
    }

    // MARK: - Database access with ledger errors

    /// A write transaction (`BEGIN IMMEDIATE`); GRDB errors become ``LedgerError``. Honours cancellation.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(updates) } catch { throw Self.ledgerError(error, path: path) }
    }

    /// A write that joins the next group commit (``WriteBatcher``): it runs in its own savepoint of a
    /// transaction shared with the writes that arrived meanwhile, and returns after that transaction
    /// committed. Honours cancellation until it is queued.
    func batchedWrite<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await batcher.write(updates) } catch { throw Self.ledgerError(error, path: path) }
    }

    /// A write transaction that may change who authenticates or with which budget: the authentication
    /// cache is emptied once it has committed (and also if it failed part-way, to be safe).
    func administrativeWrite<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        defer { authentication.withLock { $0.invalidateAll() } }
        return try await write(updates)
    }

    /// A read from a WAL snapshot; GRDB errors become ``LedgerError``. Honours cancellation.
    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(value) } catch { throw Self.ledgerError(error, path: path) }
    }

    /// `error` as the ledger reports it: ledger and cancellation errors pass through; SQLite errors are
    /// classified (busy, or storage with SQLite's message).
    static func ledgerError(_ error: any Error, path: String) -> any Error {
        switch error {
        case let e as LedgerError: return e
        case let e as PlanningRefusal: return e
        case let e as CancellationError: return e
        case let e as DatabaseError where e.isInterruptionError: return CancellationError()
        case let e as DatabaseError where e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED:
            return LedgerError.databaseBusy("\(path): \(e.message ?? "\(e)")")
        case let e as DatabaseError where e.resultCode == .SQLITE_NOTADB || e.resultCode == .SQLITE_CORRUPT:
            return LedgerError.cannotOpenDatabase(path: path, reason: e.message ?? "\(e)")
        case let e as DatabaseError:
            return LedgerError.storage("\(e.message ?? "\(e)") (SQLite code \(e.extendedResultCode.rawValue))")
        default:
            return LedgerError.storage("\(error)")
        }
    }

    /// Whole and fractional seconds of `d`.
    static func seconds(_ d: Duration) -> TimeInterval {
        TimeInterval(d.components.seconds) + TimeInterval(d.components.attoseconds) / 1e18
    }
}

extension SQLiteUsageStore: GatewayLedger {}
