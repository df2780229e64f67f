import Foundation
import PostgresNIO

extension PostgresUsageStore: LedgerAdministration {
    public func addUser(name: String, budget: Budget) async throws -> User {
        try User.validate(name: name)
        try budget.validate()
        let now = configuration.now().ledgerMilliseconds
        do {
            return try await write { c in
                let rows = try await c.query("""
                    INSERT INTO users (name, status, created_at) VALUES (\(name), 'active', \(now)) RETURNING id
                    """, logger: self.logger)
                guard let id = try await rows.decode(Int64.self).first(where: { _ in true }) else {
                    throw LedgerError.storage("inserting a user returned no id")
                }
                try await c.query("INSERT INTO user_holds VALUES (\(id), 0, 0, 0)", logger: self.logger)
                if budget != .unlimited { try await Self.saveBudget(c, userID: id, budget, logger: self.logger) }
                return User(id: id, name: name, status: .active, createdAt: Date(ledgerMilliseconds: now))
            }
        } catch LedgerError.storage(let message) where message.contains("users_name_nocase") {
            throw LedgerError.userExists(name)
        }
    }

    public func listUsers() async throws -> [User] {
        try await read { c in
            try await Self.users(c, where: "", PostgresBindings(), logger: self.logger)
        }
    }

    public func user(named name: String) async throws -> User {
        try await read { c in
            var b = PostgresBindings()
            b.append(name)
            guard let user = try await Self.users(c, where: "WHERE lower(name) = lower($1)", b, logger: self.logger).first else {
                throw LedgerError.userNotFound(name)
            }
            return user
        }
    }

    public func user(id: Int64) async throws -> User {
        try await read { c in try await Self.user(c, id: id, logger: self.logger) }
    }

    public func updateBudget(userID: Int64, _ patch: BudgetPatch) async throws -> Budget {
        try await administrativeWrite { c in
            _ = try await Self.user(c, id: userID, logger: self.logger)
            let rows = try await c.query("""
                SELECT monthly_limit_pusd, monthly_token_limit, max_request_pusd FROM budgets WHERE user_id = \(userID)
                FOR UPDATE
                """, logger: self.logger)
            var current = Budget.unlimited
            for try await (limit, tokens, cap) in rows.decode((Int64?, Int64?, Int64?).self) {
                current = Self.budget(limit, tokens, cap)
            }
            let budget = patch.applied(to: current)
            try budget.validate()
            try await Self.saveBudget(c, userID: userID, budget, logger: self.logger)
            return budget
        }
    }

    public func setStatus(userID: Int64, _ status: UserStatus) async throws -> User {
        try await administrativeWrite { c in
            try await c.query("UPDATE users SET status = \(status.rawValue) WHERE id = \(userID)", logger: self.logger)
            return try await Self.user(c, id: userID, logger: self.logger)
        }
    }

    public func createAPIKey(userID: Int64) async throws -> IssuedAPIKey {
        let now = configuration.now().ledgerMilliseconds
        return try await write { c in
            let user = try await Self.user(c, id: userID, logger: self.logger)
            // 40 random bits of prefix: a collision is rare; draw again rather than fail.
            for _ in 0..<8 {
                let (key, prefix) = APIKeyFormat.generate()
                let rows = try await c.query("""
                    INSERT INTO api_keys (user_id, prefix, key_sha256, created_at)
                    VALUES (\(userID), \(prefix), \(APIKeyFormat.hash(ofKey: key)), \(now))
                    ON CONFLICT (prefix) DO NOTHING RETURNING id
                    """, logger: self.logger)
                guard let id = try await rows.decode(Int64.self).first(where: { _ in true }) else { continue }
                let info = APIKeyInfo(id: id, userID: userID, userName: user.name, prefix: prefix,
                                      createdAt: Date(ledgerMilliseconds: now), revokedAt: nil, lastUsedAt: nil)
                return IssuedAPIKey(info: info, key: key)
            }
            throw LedgerError.storage("could not draw an unused key prefix in 8 attempts")
        }
    }

    public func listAPIKeys(userID: Int64?) async throws -> [APIKeyInfo] {
        try await read { c in
            if let userID { _ = try await Self.user(c, id: userID, logger: self.logger) }
            let rows = try await c.query("""
                SELECT k.id, k.user_id, u.name, k.prefix, k.created_at, k.revoked_at, k.last_used_at
                FROM api_keys k JOIN users u ON u.id = k.user_id
                WHERE \(userID)::bigint IS NULL OR k.user_id = \(userID)
                ORDER BY k.id
                """, logger: self.logger)
            var keys: [APIKeyInfo] = []
            for try await row in rows {
                keys.append(try Self.keyInfo(row))
            }
            return keys
        }
    }

    public func revokeAPIKey(prefix text: String) async throws -> APIKeyInfo {
        let prefix = SQLiteUsageStore.normalizedPrefix(text)
        let now = configuration.now().ledgerMilliseconds
        return try await administrativeWrite { c in
            try await c.query("""
                UPDATE api_keys SET revoked_at = GREATEST(\(now), created_at) WHERE prefix = \(prefix) AND revoked_at IS NULL
                """, logger: self.logger)
            let rows = try await c.query("""
                SELECT k.id, k.user_id, u.name, k.prefix, k.created_at, k.revoked_at, k.last_used_at
                FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = \(prefix)
                """, logger: self.logger)
            for try await row in rows { return try Self.keyInfo(row) }
            throw LedgerError.apiKeyNotFound(prefix: prefix)
        }
    }

    // MARK: - Rows

    static func keyInfo(_ row: PostgresRow) throws -> APIKeyInfo {
        let (id, userID, name, prefix, created, revoked, lastUsed) = try row.decode(
            (Int64, Int64, String, String, Int64, Int64?, Int64?).self)
        return APIKeyInfo(id: id, userID: userID, userName: name, prefix: prefix,
                          createdAt: Date(ledgerMilliseconds: created), revokedAt: revoked.map(Date.init(ledgerMilliseconds:)),
                          lastUsedAt: lastUsed.map(Date.init(ledgerMilliseconds:)))
    }

    static func users(_ c: PostgresConnection, where clause: String, _ bindings: PostgresBindings,
                      logger: Logger) async throws -> [User] {
        let rows = try await c.query(PostgresQuery(
            unsafeSQL: "SELECT id, name, status, created_at FROM users \(clause) ORDER BY lower(name)", binds: bindings),
            logger: logger)
        var users: [User] = []
        for try await (id, name, status, created) in rows.decode((Int64, String, String, Int64).self) {
            users.append(try user(id: id, name: name, status: status, createdAt: created))
        }
        return users
    }

    static func user(_ c: PostgresConnection, id: Int64, logger: Logger) async throws -> User {
        var b = PostgresBindings()
        b.append(id)
        guard let user = try await users(c, where: "WHERE id = $1", b, logger: logger).first else {
            throw LedgerError.userIDNotFound(id)
        }
        return user
    }

    /// Writes the user's budget row (none for an unlimited budget).
    static func saveBudget(_ c: PostgresConnection, userID: Int64, _ budget: Budget, logger: Logger) async throws {
        if budget == .unlimited {
            try await c.query("DELETE FROM budgets WHERE user_id = \(userID)", logger: logger)
            return
        }
        try await c.query("""
            INSERT INTO budgets (user_id, monthly_limit_pusd, monthly_token_limit, max_request_pusd)
            VALUES (\(userID), \(budget.monthlyLimit?.picoUSD), \(budget.monthlyTokenLimit), \(budget.maxRequestCost?.picoUSD))
            ON CONFLICT (user_id) DO UPDATE SET monthly_limit_pusd = EXCLUDED.monthly_limit_pusd,
                monthly_token_limit = EXCLUDED.monthly_token_limit, max_request_pusd = EXCLUDED.max_request_pusd
            """, logger: logger)
    }
}
