import Foundation
import Logging
import PostgresNIO

extension PostgresUsageStore {
    /// How a process uses the shared ledger.
    public enum Role: Sendable, Hashable {
        /// A gateway: registers an instance with a heartbeat, tags its reservations with it, and settles the
        /// reservations of instances whose heartbeat expired. Any number of owners share one database.
        case owner
        /// An admin tool (the CLI): no instance row, no heartbeat, no expiry of others.
        case administration
    }

    /// Settings of a ``PostgresUsageStore``.
    public struct Configuration: Sendable {
        /// Owner (server) or administration (CLI).
        public var role: Role = .owner
        /// The longest a call waits for a pooled connection (including connecting) before it throws
        /// `.databaseUnavailable`.
        public var connectionWait: Duration = .seconds(5)
        /// Connections in the pool, at most.
        public var maximumConnections = 20
        /// How often an owner refreshes its heartbeat and looks for expired instances.
        public var heartbeatInterval: Duration = .seconds(5)
        /// How old an instance's heartbeat may be before the others settle its reservations as `interrupted`. Keep it
        /// several heartbeat intervals long: an instance that loses the database for longer is taken for dead.
        public var instanceExpiry: Duration = .seconds(30)
        /// How this process appears in `instances.name`.
        public var instanceName: String = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        /// Minimum time between two checkpoint writes of one stream.
        public var checkpointInterval: Duration = .seconds(1)
        /// Completion tokens since a stream's last checkpoint write that make the next one due regardless of time.
        public var checkpointTokenStride: Int64 = 256
        /// How long a successful authentication is remembered in memory. A revocation, disable or budget change made
        /// on another instance (or by the CLI) reaches this one within this time; `reserve` re-checks the key and the
        /// user in its transaction regardless.
        public var authenticationCacheTTL: Duration = .seconds(2)
        /// The wall clock for `*_at` columns and billing months (heartbeats use the database's clock).
        public var now: @Sendable () -> Date = { Date() }
        /// Where heartbeat failures and expiries are logged.
        public var logger = Logger(label: "tokenmeter.ledger.postgres")

        /// The defaults: owner, 5 s connection wait, 20 connections, heartbeat every 5 s, expiry after 30 s.
        public init() {}
    }
}

/// A `postgres://` or `postgresql://` URL: `postgres://user[:password]@host[:port]/database[?sslmode=…]`.
struct PostgresURL: Sendable {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    var tls: PostgresClient.Configuration.TLS

    /// Where it points, without the password.
    var displayLocation: String { "\(user)@\(host):\(port)/\(database)" }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    init(_ text: String) throws(LedgerError) {
        func bad(_ reason: String) -> LedgerError {
            .cannotOpenDatabase(path: Self.redacted(text), reason: reason)
        }
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw bad("expected postgres://user[:password]@host[:port]/database")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw bad("the URL names no user (postgres://USER@host/database)")
        }
        guard let host = components.host, !host.isEmpty else { throw bad("the URL names no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw bad("the URL names no database (postgres://user@host/DATABASE)")
        }
        self.user = user
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.host = host
        self.port = components.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
        var tls = PostgresClient.Configuration.TLS.prefer(.makeClientConfiguration())
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
                case "require":
                    // libpq's `require` encrypts without checking the certificate; verify-ca/verify-full check it.
                    var config = TLSConfiguration.makeClientConfiguration()
                    config.certificateVerification = .none
                    tls = .require(config)
                case "verify-ca":
                    var config = TLSConfiguration.makeClientConfiguration()
                    config.certificateVerification = .noHostnameVerification
                    tls = .require(config)
                case "verify-full": tls = .require(.makeClientConfiguration())
                default:
                    throw bad("sslmode must be disable, allow, prefer, require, verify-ca or verify-full (got '\(item.value ?? "")')")
                }
            default:
                throw bad("unsupported URL parameter '\(item.name)' (only sslmode is understood)")
            }
        }
        self.tls = tls
    }

    /// `text` with any password replaced by `***`, for messages.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}
