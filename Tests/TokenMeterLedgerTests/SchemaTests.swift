import Foundation
import GRDB
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("Schema and connection settings")
struct SchemaTests {
    @Test("a new ledger is WAL, foreign keys on, synchronous NORMAL, 5 s busy timeout, at the latest migration")
    func connectionSettings() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"))
        #expect(try await store.schemaVersion() == "v6-budget-alerts")
        let pragmas = try await store.pool.write { db in
            try (String.fetchOne(db, sql: "PRAGMA journal_mode"), Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                 Int.fetchOne(db, sql: "PRAGMA synchronous"), Int.fetchOne(db, sql: "PRAGMA busy_timeout"))
        }
        #expect(pragmas.0 == "wal")
        #expect(pragmas.1 == 1)
        #expect(pragmas.2 == 1) // NORMAL
        #expect(pragmas.3 == 5000)
    }

    @Test("durability .full sets synchronous FULL on the writer")
    func fullDurability() async throws {
        let dir = try TemporaryDirectory()
        var c = SQLiteUsageStore.Configuration()
        c.durability = .full
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: c)
        #expect(try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
    }

    @Test("opening a missing file without createIfMissing is databaseNotFound, and creates nothing")
    func missingFile() throws {
        let dir = try TemporaryDirectory()
        var c = SQLiteUsageStore.Configuration()
        c.createIfMissing = false
        c.role = .administration
        #expect(throws: LedgerError.databaseNotFound(path: dir.path("nope.sqlite"))) {
            try SQLiteUsageStore(path: dir.path("nope.sqlite"), configuration: c)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("nope.sqlite")))
    }

    @Test("a file that is not SQLite is refused with cannotOpenDatabase")
    func notADatabase() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("junk.sqlite")
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        var c = SQLiteUsageStore.Configuration()
        c.role = .administration
        do {
            _ = try SQLiteUsageStore(path: path, configuration: c)
            Issue.record("opened a junk file")
        } catch {
            guard case .cannotOpenDatabase = error else { Issue.record("got \(error)"); return }
        }
    }

    @Test("only one owner per file; administration stores open beside it")
    func ownerLock() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        var owner: SQLiteUsageStore? = try SQLiteUsageStore(path: path)
        #expect(throws: LedgerError.databaseInUse(path: path)) { try SQLiteUsageStore(path: path) }
        let admin = try SQLiteUsageStore(path: path, configuration: .testing(role: .administration))
        _ = try await admin.addUser(name: "ann", budget: .unlimited)
        #expect(try await owner!.user(named: "ANN").name == "ann")
        owner = nil
        _ = try SQLiteUsageStore(path: path) // the lock went with the first owner
    }

    @Test("close() hands ownership over at once, while the closed store object still exists")
    func closeReleasesOwnership() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        let first = try SQLiteUsageStore(path: path)
        _ = try await first.addUser(name: "ann", budget: .unlimited)
        try await first.close()
        let second = try SQLiteUsageStore(path: path)
        #expect(try await second.user(named: "ann").name == "ann")
        await #expect(throws: (any Error).self) { _ = try await first.listUsers() }
    }

    @Test("the schema refuses what the types forbid: provider billing without counts, wrong billed_tokens, negative cost, edits of records")
    func constraints() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let r = try await store.reserve(c.request("r1", cost: usd("0.01")))
        _ = try await store.settle(r, usage: localUsage(prompt: 10, completion: 5), status: .completed)
        let insert = """
            INSERT INTO usage_records (request_id, user_id, api_key_id, model, upstream, started_at, ended_at, status,
              prompt_tokens, completion_tokens, provider_prompt_tokens, provider_completion_tokens, billed_by,
              billed_tokens, cost_pusd)
            VALUES (?, \(c.user.id), \(c.key.info.id), 'm', 'u', 0, 0, 'completed', 10, 5, ?, ?, ?, ?, ?)
            """
        let bad: [(String, StatementArguments)] = [
            ("provider billing without provider counts", ["a", nil, nil, "provider", 15, 0]),
            ("billed_tokens not the billed count", ["b", nil, nil, "local", 16, 0]),
            ("billed_tokens not the provider's count", ["c", 11, 6, "provider", 15, 0]),
            ("negative cost", ["d", nil, nil, "local", 15, -1]),
            ("unknown billing", ["e", nil, nil, "guess", 15, 0]),
            ("duplicate request id", ["r1", nil, nil, "local", 15, 0]),
        ]
        for (what, args) in bad {
            await #expect(throws: DatabaseError.self, "\(what)") {
                try await store.pool.write { try $0.execute(sql: insert, arguments: args) }
            }
        }
        try await store.pool.write { try $0.execute(sql: insert, arguments: ["ok", 11, 6, "provider", 17, 0]) }
        await #expect(throws: DatabaseError.self, "records are append-only") {
            try await store.pool.write { try $0.execute(sql: "UPDATE usage_records SET cost_pusd = 0") }
        }
        await #expect(throws: DatabaseError.self, "records are append-only") {
            try await store.pool.write { try $0.execute(sql: "DELETE FROM usage_records") }
        }
        await #expect(throws: DatabaseError.self, "user names are checked") {
            try await store.pool.write { try $0.execute(sql: "INSERT INTO users (name, created_at) VALUES ('a b', 0)") }
        }
        try assertBooksBalance(path: dir.path("l.sqlite"))
    }
}
