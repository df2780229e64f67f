import Foundation
import GRDB

/// A row of `users`.
struct UserRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "users"

    var id: Int64?
    var name: String
    var status: String
    var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case id, name, status
        case createdAt = "created_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
        static let status = Column(CodingKeys.status)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The public value; throws if the row holds a value the schema's CHECKs should have refused.
    func user() throws(LedgerError) -> User {
        guard let id, let status = UserStatus(rawValue: status) else {
            throw .storage("users row \(id.map(String.init) ?? "?") has status '\(status)'")
        }
        return User(id: id, name: name, status: status, createdAt: Date(ledgerMilliseconds: createdAt))
    }
}
