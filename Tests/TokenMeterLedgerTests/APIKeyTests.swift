import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterLedger
import TokenMeterMoney

@Suite("API keys")
struct APIKeyTests {
    @Test("base32 matches RFC 4648 test vectors (lowercase, unpadded)")
    func base32Vectors() {
        #expect(APIKeyFormat.base32(Array("f".utf8)) == "my")
        #expect(APIKeyFormat.base32(Array("fo".utf8)) == "mzxq")
        #expect(APIKeyFormat.base32(Array("foobar".utf8)) == "mzxw6ytboi")
    }

    @Test("generated keys are tm_<8>_<52> from a-z2-7, and parse back to their prefix")
    func format() {
        let (key, prefix) = APIKeyFormat.generate()
        #expect(key.count == 3 + 8 + 1 + 52)
        #expect(key.hasPrefix("tm_\(prefix)_"))
        #expect(APIKeyFormat.prefix(ofKey: key) == prefix)
        #expect(APIKeyFormat.prefix(ofKey: key + "a") == nil)
        #expect(APIKeyFormat.prefix(ofKey: key.uppercased()) == nil)
        #expect(APIKeyFormat.prefix(ofKey: "sk-" + key.dropFirst(3)) == nil)
        #expect(APIKeyFormat.generate().key != key)
    }

    @Test("constant-time comparison is plain equality on hashes")
    func compare() {
        let a = APIKeyFormat.hash(ofKey: "tm_a"), b = APIKeyFormat.hash(ofKey: "tm_b")
        #expect(APIKeyFormat.constantTimeEqual(a, a))
        #expect(!APIKeyFormat.constantTimeEqual(a, b))
        #expect(!APIKeyFormat.constantTimeEqual(a, a.prefix(31)))
    }

    @Test("a created key authenticates to its user and budget; a wrong secret with the right prefix does not")
    func authenticate() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"))
        let budget = Budget(monthlyLimit: usd("20"), monthlyTokenLimit: 1_000_000, maxRequestCost: usd("0.5"))
        let c = try await Customer.add(store, name: "ann", budget: budget)
        let auth = try await store.authenticate(apiKey: c.key.key)
        #expect(auth.user == c.user)
        #expect(auth.apiKeyID == c.key.info.id)
        #expect(auth.budget == budget)

        var forged = Array(c.key.key)
        forged[forged.count - 1] = forged.last == "a" ? "b" : "a"
        await #expect(throws: LedgerError.invalidAPIKey) { try await store.authenticate(apiKey: String(forged)) }
        await #expect(throws: LedgerError.invalidAPIKey) { try await store.authenticate(apiKey: "sk-not-ours") }
        await #expect(throws: LedgerError.invalidAPIKey) {
            try await store.authenticate(apiKey: APIKeyFormat.generate().key) // well-formed, unknown prefix
        }
    }

    @Test("a key revoked by another process may still authenticate from the cache for its TTL, but reserves nothing")
    func revokedElsewhereCannotReserve() async throws {
        let dir = try TemporaryDirectory()
        let server = try SQLiteUsageStore(path: dir.path("l.sqlite"))
        var adminConfiguration = SQLiteUsageStore.Configuration()
        adminConfiguration.role = .administration
        let admin = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: adminConfiguration)
        let c = try await Customer.add(admin, name: "ann", budget: .unlimited)
        #expect(try await server.authenticate(apiKey: c.key.key).user.name == "ann")  // now cached in `server`

        _ = try await admin.revokeAPIKey(prefix: c.key.info.prefix)
        // The server's cache does not see another process's write (the documented bound)...
        #expect(try await server.authenticate(apiKey: c.key.key).apiKeyID == c.key.info.id)
        // ...but the reservation re-checks the key in its transaction, so no money moves.
        await #expect(throws: LedgerError.apiKeyRevoked(prefix: c.key.info.prefix)) {
            try await server.reserve(c.request("r1", cost: .zero))
        }
        // With the cache off, authentication sees the revocation at once.
        var uncached = SQLiteUsageStore.Configuration()
        uncached.role = .administration
        uncached.authenticationCacheTTL = .zero
        let fresh = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: uncached)
        await #expect(throws: LedgerError.apiKeyRevoked(prefix: c.key.info.prefix)) {
            try await fresh.authenticate(apiKey: c.key.key)
        }
    }

    @Test("a cache entry half its time to live old asks one caller for a background read; the answer renews it")
    func cacheRefreshesAhead() throws {
        var cache = AuthenticationCache(timeToLive: .seconds(2))
        let key = AuthenticatedKey(user: User(id: 1, name: "ann", status: .active, createdAt: Date()), apiKeyID: 1,
                                   prefix: "abcdefgh", budget: .unlimited)
        let hash = Data(repeating: 7, count: 32)
        let t0 = ContinuousClock.now
        cache.store(prefix: "abcdefgh", keySHA256: hash, key: key, generationAtRead: cache.generation, at: t0)
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .milliseconds(999))?.refresh == false)
        // From half the time to live: the first hit asks for the read, the ones while it runs do not.
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .seconds(1))?.refresh == true)
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .milliseconds(1500))?.refresh == false)
        // A read that failed for another reason than the key: served until it expires, and asked for again.
        cache.refreshFailed(prefix: "abcdefgh", keyIsInvalid: false, at: t0 + .milliseconds(1600))
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .milliseconds(1700))?.refresh == true)
        // The read's answer: fresh for a whole time to live from then, so a key in steady use never expires.
        cache.store(prefix: "abcdefgh", keySHA256: hash, key: key, generationAtRead: cache.generation, at: t0 + .milliseconds(1800))
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .milliseconds(2700))?.refresh == false)
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .milliseconds(3700))?.refresh == true)
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .milliseconds(3800)) == nil)
        // A read that found the key revoked (or its user disabled) drops the entry: the next request reads the database.
        cache.store(prefix: "abcdefgh", keySHA256: hash, key: key, generationAtRead: cache.generation, at: t0)
        cache.refreshFailed(prefix: "abcdefgh", keyIsInvalid: true, at: t0 + .seconds(1))
        #expect(cache.lookup(prefix: "abcdefgh", keySHA256: hash, at: t0 + .seconds(1)) == nil)
        #expect(cache.count == 0)
    }

    @Test("a key revoked by another process is refused once a background read saw it, before the entry would expire")
    func backgroundReadSeesRevocation() async throws {
        let dir = try TemporaryDirectory()
        var serverConfiguration = SQLiteUsageStore.Configuration()
        serverConfiguration.authenticationCacheTTL = .seconds(6)
        let server = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: serverConfiguration)
        var adminConfiguration = SQLiteUsageStore.Configuration()
        adminConfiguration.role = .administration
        let admin = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: adminConfiguration)
        let c = try await Customer.add(admin, name: "ann", budget: .unlimited)
        let read = ContinuousClock.now
        _ = try await server.authenticate(apiKey: c.key.key)  // read from the database, cached for 6 s
        _ = try await admin.revokeAPIKey(prefix: c.key.info.prefix)
        try await Task.sleep(until: read + .seconds(3) + .milliseconds(100), clock: .continuous)
        // Half the time to live has passed: this request is served from the cache and starts a background read...
        #expect(try await server.authenticate(apiKey: c.key.key).apiKeyID == c.key.info.id)
        // ...which finds the key revoked and drops the entry, long before the 6 s are up.
        var refused = false
        while !refused, ContinuousClock.now < read + .milliseconds(5500) {
            do { _ = try await server.authenticate(apiKey: c.key.key) } catch LedgerError.apiKeyRevoked {
                refused = true
            }
            if !refused { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(refused)
    }

    @Test("a cached authentication is bound to the whole key: a wrong secret with a cached prefix is refused")
    func cacheChecksTheSecret() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        _ = try await store.authenticate(apiKey: c.key.key)
        let forged = c.key.key.dropLast() + (c.key.key.hasSuffix("a") ? "b" : "a")
        await #expect(throws: LedgerError.invalidAPIKey) { try await store.authenticate(apiKey: String(forged)) }
        _ = try await store.updateBudget(userID: c.user.id, BudgetPatch(monthlyTokenLimit: .set(7)))
        #expect(try await store.authenticate(apiKey: c.key.key).budget.monthlyTokenLimit == 7)
    }

    @Test("revoked keys and disabled users are refused; enabling restores access")
    func revokeAndDisable() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        let second = try await store.createAPIKey(userID: c.user.id)

        _ = try await store.setStatus(userID: c.user.id, .disabled)
        await #expect(throws: LedgerError.userDisabled("ann")) { try await store.authenticate(apiKey: c.key.key) }
        await #expect(throws: LedgerError.userDisabled("ann")) {
            try await store.reserve(c.request("r1", cost: .zero))
        }
        _ = try await store.setStatus(userID: c.user.id, .active)
        _ = try await store.authenticate(apiKey: c.key.key)

        let revoked = try await store.revokeAPIKey(prefix: c.key.info.displayPrefix)
        #expect(revoked.revokedAt != nil)
        await #expect(throws: LedgerError.apiKeyRevoked(prefix: c.key.info.prefix)) {
            try await store.authenticate(apiKey: c.key.key)
        }
        await #expect(throws: LedgerError.apiKeyRevoked(prefix: c.key.info.prefix)) {
            try await store.reserve(c.request("r2", cost: .zero))
        }
        // Revoking again is a no-op returning the same revocation time.
        #expect(try await store.revokeAPIKey(prefix: c.key.info.prefix).revokedAt == revoked.revokedAt)
        _ = try await store.authenticate(apiKey: second.key)
        await #expect(throws: LedgerError.apiKeyNotFound(prefix: "zzzzzzzz")) {
            try await store.revokeAPIKey(prefix: "tm_zzzzzzzz_…")
        }
    }

    @Test("a key of one user cannot reserve for another")
    func keyOwnership() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"))
        let ann = try await Customer.add(store, name: "ann", budget: .unlimited)
        let bob = try await Customer.add(store, name: "bob", budget: .unlimited)
        var request = ann.request("r", cost: .zero)
        request.apiKeyID = bob.key.info.id
        await #expect(throws: LedgerError.apiKeyNotOwned(prefix: bob.key.info.prefix, user: "ann")) {
            try await store.reserve(request)
        }
    }

    @Test("reserving records the key's last use")
    func lastUsed() async throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock(midJune2025)
        let store = try SQLiteUsageStore(path: dir.path("l.sqlite"), configuration: .testing(clock: clock))
        let c = try await Customer.add(store, name: "ann", budget: .unlimited)
        #expect(try await store.listAPIKeys(userID: c.user.id).first?.lastUsedAt == nil)
        clock.advance(seconds: 90)
        _ = try await store.reserve(c.request("r", cost: .zero))
        #expect(try await store.listAPIKeys(userID: c.user.id).first?.lastUsedAt == midJune2025 + 90)
    }

    @Test("no key secret appears anywhere in the database files, WAL included, while open and after close")
    func secretNeverStored() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("l.sqlite")
        var store: SQLiteUsageStore? = try SQLiteUsageStore(path: path)
        var keys: [String] = []
        for name in ["ann", "bob", "cid"] {
            let c = try await Customer.add(store!, name: name, budget: Budget(monthlyLimit: usd("1")))
            keys.append(c.key.key)
            keys.append(try await store!.createAPIKey(userID: c.user.id).key)
            _ = try await store!.authenticate(apiKey: c.key.key)
            let r = try await store!.reserve(c.request("req-\(name)", cost: usd("0.01")))
            _ = try await store!.settle(r, usage: localUsage(prompt: 1, completion: 1), status: .completed)
        }
        _ = try await store!.revokeAPIKey(prefix: APIKeyFormat.prefix(ofKey: keys[1])!)

        func assertAbsent(_ moment: String) throws {
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.url.path)
            #expect(files.contains("l.sqlite"))
            for file in files {
                let bytes = try Data(contentsOf: dir.url.appendingPathComponent(file))
                for key in keys {
                    let secret = String(key.split(separator: "_")[2])
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(moment): secret in \(file)")
                    #expect(bytes.range(of: Data(secret.prefix(16).utf8)) == nil, "\(moment): secret part in \(file)")
                }
            }
        }
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        try assertAbsent("while open")
        // Prefixes are stored (a sanity check that the search can find what is there).
        let main = try Data(contentsOf: URL(fileURLWithPath: path)) + Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        #expect(main.range(of: Data(APIKeyFormat.prefix(ofKey: keys[0])!.utf8)) != nil)
        store = nil
        try assertAbsent("after close")
    }
}
