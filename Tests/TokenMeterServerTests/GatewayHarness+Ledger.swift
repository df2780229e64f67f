import Foundation
import GRDB
import Synchronization
import Testing
import TokenMeterTestSupport

/// Reads of the harness's ledger file that the fault tests check after every scenario.
extension GatewayHarness {
    /// A connection to the ledger file that waits (up to 10 s) for the server's or a test's write lock.
    func ledgerConnection() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: databasePath, configuration: configuration)
    }

    /// Reservations still open (requests in flight, or left open by a failed settle).
    func openReservations() throws -> Int {
        if isPostgres {
            let rows = try PostgresTestCluster.query(databasePath, "SELECT COUNT(*) FROM reservations")
            return rows.first?.first?.flatMap { Int($0) } ?? -1
        }
        return try ledgerConnection().read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations") ?? -1 }
    }

    /// Waits until no reservation is open (settling runs as the stream unwinds, after the client saw its end);
    /// returns how many are still open at the deadline.
    func waitUntilNoReservation(timeout: Duration = .seconds(5)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let open = try openReservations()
            if open == 0 || ContinuousClock.now > deadline { return open }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Differences between the monthly rollup and the records it sums, one line per user and month that
    /// disagree (empty when the books balance).
    func rollupMismatches() throws -> [String] {
        if isPostgres {
            return try PostgresTestCluster.query(databasePath, """
                WITH sums AS (
                    SELECT user_id, to_char(to_timestamp(ended_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM') AS period,
                           COUNT(*) AS n, SUM(billed_tokens) AS tokens, SUM(cost_pusd) AS pusd
                    FROM usage_records GROUP BY 1, 2)
                SELECT format('user %s %s: records %s/%s/%s, rollup %s/%s/%s', s.user_id, s.period, s.n, s.tokens, s.pusd,
                              m.request_count, m.billed_tokens, m.cost_pusd)
                FROM sums s LEFT JOIN monthly_usage m ON m.user_id = s.user_id AND m.period = s.period
                WHERE m.user_id IS NULL OR m.request_count <> s.n OR m.billed_tokens <> s.tokens OR m.cost_pusd <> s.pusd
                UNION ALL
                SELECT format('user %s %s: rollup without records', m.user_id, m.period)
                FROM monthly_usage m LEFT JOIN sums s ON s.user_id = m.user_id AND s.period = m.period
                WHERE s.user_id IS NULL AND m.request_count <> 0
                """).compactMap { $0.first ?? nil }
        }
        return try ledgerConnection().read { db in
            try String.fetchAll(db, sql: """
                WITH sums AS (
                    SELECT user_id, strftime('%Y-%m', ended_at / 1000, 'unixepoch') AS period,
                           COUNT(*) AS n, SUM(billed_tokens) AS tokens, SUM(cost_pusd) AS pusd
                    FROM usage_records GROUP BY 1, 2)
                SELECT printf('user %d %s: records %d/%d/%d, rollup %s/%s/%s', s.user_id, s.period, s.n, s.tokens, s.pusd,
                              m.request_count, m.billed_tokens, m.cost_pusd)
                FROM sums s LEFT JOIN monthly_usage m ON m.user_id = s.user_id AND m.period = s.period
                WHERE m.user_id IS NULL OR m.request_count != s.n OR m.billed_tokens != s.tokens OR m.cost_pusd != s.pusd
                UNION ALL
                SELECT printf('user %d %s: rollup without records', m.user_id, m.period)
                FROM monthly_usage m LEFT JOIN sums s ON s.user_id = m.user_id AND s.period = m.period
                WHERE s.user_id IS NULL AND m.request_count != 0
                """)
        }
    }

    /// The end state every fault scenario must reach: no reservation open, the rollup equal to the records.
    func expectBooksClosed(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let open = try await waitUntilNoReservation()
        #expect(open == 0, "\(open) reservations left open", sourceLocation: sourceLocation)
        let mismatches = try rollupMismatches()
        #expect(mismatches.isEmpty, "\(mismatches)", sourceLocation: sourceLocation)
    }
}

/// Holds SQLite's write lock on a ledger file from another connection, as a backup tool or an operator's
/// `sqlite3` shell with an open `BEGIN EXCLUSIVE` would: `BEGIN EXCLUSIVE`, hold, `COMMIT`. Runs on its own
/// thread (not the test's cooperative pool). SQLite tracks locks per file across the connections of a
/// process, so the server's connections in this process wait for it exactly as they would for another
/// process's.
final class LedgerLockHolder: Sendable {
    private let released = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Takes the lock on `path` and returns once it is held.
    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // the server may be writing when the lock is asked for
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let taken = DispatchSemaphore(value: 0)
        let released = self.released, finished = self.finished
        let failure = LockedBox<(any Error)?>(nil)
        Thread.detachNewThread {
            do {
                try queue.inDatabase { db in
                    try db.execute(sql: "BEGIN EXCLUSIVE")
                    taken.signal()
                    released.wait()
                    try db.execute(sql: "COMMIT")
                }
            } catch {
                failure.value = error
                taken.signal()
            }
            finished.signal()
        }
        taken.wait()
        if let error = failure.value { throw error }
    }

    /// Commits (releasing the lock) and waits for the holder's thread to finish.
    func release() async {
        released.signal()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { self.finished.wait(); done.resume() }
        }
    }
}

/// A value shared with a plain thread.
final class LockedBox<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>
    init(_ value: Value) { stored = Mutex(value) }
    var value: Value {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
