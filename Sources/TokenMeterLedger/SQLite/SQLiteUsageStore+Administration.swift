import Foundation
import GRDB

extension SQLiteUsageStore: LedgerAdministration {
    public func addUser(name: String, budget: Budget) async throws -> User {
        try User.validate(name: name)
        try budget.validate()
        let now = configuration.now().ledgerMilliseconds
        return try await write { db in
            if try UserRow.filter(UserRow.Columns.name == name).fetchCount(db) > 0 { throw LedgerError.userExists(name) }
            var row = UserRow(id: nil, name: name, status: UserStatus.active.rawValue, createdAt: now)
            try row.insert(db)
            let user = try row.user()
            if budget != .unlimited { try BudgetRow(userID: user.id, budget: budget).insert(db) }
            return user
        }
    }

    public func listUsers() async throws -> [User] {
        try await read { db in
            try UserRow.order(UserRow.Columns.name).fetchAll(db).map { try $0.user() }
        }
    }

    public func user(named name: String) async throws -> User {
        try await read { db in try LedgerQueries.user(db, named: name).user() }
    }

    public func user(id: Int64) async throws -> User {
        try await read { db in try LedgerQueries.user(db, id: id).user() }
    }

    public func updateBudget(userID: Int64, _ patch: BudgetPatch) async throws -> Budget {
        try await administrativeWrite { db in
            _ = try LedgerQueries.user(db, id: userID)
            let budget = patch.applied(to: try BudgetRow.budget(ofUser: userID, db))
            try budget.validate()
            try BudgetRow(userID: userID, budget: budget).save(db)
            return budget
        }
    }

    public func setStatus(userID: Int64, _ status: UserStatus) async throws -> User {
        try await administrativeWrite { db in
            var row = try LedgerQueries.user(db, id: userID)
            row.status = status.rawValue
            try row.update(db)
            return try row.user()
        }
    }

    public func createAPIKey(userID: Int64) async throws -> IssuedAPIKey {
        let now = configuration.now().ledgerMilliseconds
        return try await write { db in
            let user = try LedgerQueries.user(db, id: userID)
            // 40 random bits of prefix: a collision is rare; draw again rather than fail.
            for _ in 0..<8 {
                let (key, prefix) = APIKeyFormat.generate()
                guard try APIKeyRow.filter(APIKeyRow.Columns.prefix == prefix).fetchCount(db) == 0 else { continue }
                var row = APIKeyRow(id: nil, userID: userID, prefix: prefix, keySHA256: APIKeyFormat.hash(ofKey: key),
                                    createdAt: now, revokedAt: nil, lastUsedAt: nil)
                try row.insert(db)
                return IssuedAPIKey(info: row.info(userName: user.name), key: key)
            }
            throw LedgerError.storage("could not draw an unused key prefix in 8 attempts")
        }
    }

    public func listAPIKeys(userID: Int64?) async throws -> [APIKeyInfo] {
        try await read { db in
            var names: [Int64: String] = [:]
            for user in try UserRow.fetchAll(db) { names[user.id!] = user.name }
            if let userID, names[userID] == nil { throw LedgerError.userIDNotFound(userID) }
            var request = APIKeyRow.order(APIKeyRow.Columns.id)
            if let userID { request = request.filter(APIKeyRow.Columns.userID == userID) }
            return try request.fetchAll(db).map { $0.info(userName: names[$0.userID] ?? "?") }
        }
    }

    public func revokeAPIKey(prefix text: String) async throws -> APIKeyInfo {
        let prefix = Self.normalizedPrefix(text)
        let now = configuration.now().ledgerMilliseconds
        return try await administrativeWrite { db in
            guard var row = try APIKeyRow.filter(APIKeyRow.Columns.prefix == prefix).fetchOne(db) else {
                throw LedgerError.apiKeyNotFound(prefix: prefix)
            }
            if row.revokedAt == nil {
                row.revokedAt = max(now, row.createdAt)
                try row.update(db)
            }
            return row.info(userName: try LedgerQueries.user(db, id: row.userID).name)
        }
    }

    /// The bare prefix from what a person may paste: `abcd2345`, `tm_abcd2345_…`, `tm_abcd2345_...` or a
    /// whole key.
    static func normalizedPrefix(_ text: String) -> String {
        if let p = APIKeyFormat.prefix(ofKey: text) { return p }
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        if s.hasPrefix("\(APIKeyFormat.scheme)_") { s = s.dropFirst(APIKeyFormat.scheme.count + 1) }
        if let underscore = s.firstIndex(of: "_") { s = s[..<underscore] }
        return String(s)
    }
}
