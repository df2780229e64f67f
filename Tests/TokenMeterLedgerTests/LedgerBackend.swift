import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger

/// The two ledger implementations; the shared suites run every test on both.
enum LedgerBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// What a test on this backend needs from the machine (PostgreSQL for `.postgres`).
    var requirement: TestRequirement {
        switch self {
        case .sqlite: TestRequirement(isMet: true, "SQLite")
        case .postgres: PostgresTestCluster.requirement
        }
    }
}

/// A fresh, empty ledger for one test: a SQLite file in a temporary directory, or a new database on the test
/// PostgreSQL cluster. Opened as owner on `clock`, with the given checkpoint policy.
struct TestLedger: Sendable {
    let backend: LedgerBackend
    let store: any GatewayLedger
    /// The SQLite file (nil on PostgreSQL).
    let path: String?
    /// The PostgreSQL URL (nil on SQLite).
    let url: String?
    private let directory: TemporaryDirectory?

    static func open(_ backend: LedgerBackend, clock: TestClock? = nil, interval: Duration = .seconds(1),
                     stride: Int64 = 256) async throws -> TestLedger {
        try backend.requirement.check()
        switch backend {
        case .sqlite:
            let dir = try TemporaryDirectory()
            let path = dir.path("ledger.sqlite")
            let store = try SQLiteUsageStore(path: path, configuration: .testing(clock: clock, interval: interval, stride: stride))
            return TestLedger(backend: backend, store: store, path: path, url: nil, directory: dir)
        case .postgres:
            let url = try PostgresTestCluster.freshDatabase("ledger")
            let store = try await PostgresUsageStore.open(url: url, configuration: .testing(clock: clock, interval: interval,
                                                                                               stride: stride))
            return TestLedger(backend: backend, store: store, path: nil, url: url, directory: nil)
        }
    }

    /// A second store on the same ledger: on SQLite an administration store (one owner per file), on PostgreSQL a
    /// second owner, as a second gateway instance would open it. The caller closes it.
    func openSecond(clock: TestClock? = nil) async throws -> any GatewayLedger {
        if let path { return try SQLiteUsageStore(path: path, configuration: .testing(clock: clock, role: .administration)) }
        return try await PostgresUsageStore.open(url: url!, configuration: .testing(clock: clock))
    }

    /// Checks the books from the records up (rollups, holds; nothing held when `expectNoReservations`).
    func assertBooksBalance(expectNoReservations: Bool = true) async throws {
        switch store {
        case let sqlite as SQLiteUsageStore:
            try TokenMeterLedgerTests.assertBooksBalance(path: sqlite.path, expectNoReservations: expectNoReservations)
        case let postgres as PostgresUsageStore:
            let problems = try await postgres.auditBooks(expectNoReservations: expectNoReservations)
            #expect(problems.isEmpty, "\(problems)")
        default:
            Issue.record("no audit for \(type(of: store))")
        }
    }

    /// Closes the store and, on PostgreSQL, drops the database.
    func close() async throws {
        try await store.close()
        if let url { PostgresTestCluster.dropDatabase(url: url) }
    }

    /// Opens a ledger, runs `body` with it, checks that the rollups and hold totals agree with the records and the
    /// open reservations (some tests leave reservations open on purpose), and closes it.
    static func with(_ backend: LedgerBackend, clock: TestClock? = nil, interval: Duration = .seconds(1), stride: Int64 = 256,
                     checkBooks: Bool = true, _ body: (TestLedger) async throws -> Void) async throws {
        let ledger = try await open(backend, clock: clock, interval: interval, stride: stride)
        do {
            try await body(ledger)
            if checkBooks { try await ledger.assertBooksBalance(expectNoReservations: false) }
        } catch {
            try? await ledger.close()
            throw error
        }
        try await ledger.close()
    }
}

extension PostgresUsageStore.Configuration {
    /// Owner configuration with the given clock and checkpoint policy, like `SQLiteUsageStore.Configuration.testing`.
    static func testing(clock: TestClock? = nil, role: PostgresUsageStore.Role = .owner,
                        interval: Duration = .seconds(1), stride: Int64 = 256) -> Self {
        var c = Self()
        c.role = role
        c.checkpointInterval = interval
        c.checkpointTokenStride = stride
        c.connectionWait = .seconds(10)
        if let clock { c.now = { clock.now } }
        return c
    }
}
