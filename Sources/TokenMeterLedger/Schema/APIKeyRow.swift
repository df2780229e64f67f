import Foundation
import GRDB

/// A row of `api_keys`: the visible prefix and the SHA-256 of the full key, never the key itself.
struct APIKeyRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "api_keys"

    var id: Int64?
    var userID: Int64
    var prefix: String
    var keySHA256: Data
    var createdAt: Int64
    var revokedAt: Int64?
    var lastUsedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, prefix
        case userID = "user_id"
        case keySHA256 = "key_sha256"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let userID = Column(CodingKeys.userID)
        static let prefix = Column(CodingKeys.prefix)
        static let revokedAt = Column(CodingKeys.revokedAt)
        static let lastUsedAt = Column(CodingKeys.lastUsedAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    func info(userName: String) -> APIKeyInfo {
        APIKeyInfo(id: id ?? 0, userID: userID, userName: userName, prefix: prefix,
                   createdAt: Date(ledgerMilliseconds: createdAt),
                   revokedAt: revokedAt.map(Date.init(ledgerMilliseconds:)),
                   lastUsedAt: lastUsedAt.map(Date.init(ledgerMilliseconds:)))
    }
}
