import Foundation

/// A person or service allowed to use TokenMeter through its API keys.
public struct User: Sendable, Hashable {
    /// The ledger's identifier for the user (stable for the life of the database).
    public var id: Int64
    /// Unique, case-insensitive name: 1 to 64 characters from `A-Z a-z 0-9 . _ @ -`.
    public var name: String
    /// Whether the user's keys are accepted.
    public var status: UserStatus
    /// When the user was added (UTC, millisecond resolution).
    public var createdAt: Date

    /// A user value as stored in the ledger.
    public init(id: Int64, name: String, status: UserStatus, createdAt: Date) {
        self.id = id
        self.name = name
        self.status = status
        self.createdAt = createdAt
    }
}

/// Whether a user may make requests. A disabled user's keys are refused but kept, and so is the history.
public enum UserStatus: String, Sendable, Hashable, CaseIterable {
    case active
    case disabled
}

extension User {
    /// The longest accepted user name, in characters.
    public static let maximumNameLength = 64

    /// Checks that `name` is acceptable as a user name, so errors name the rule rather than a SQL constraint.
    public static func validate(name: String) throws(LedgerError) {
        guard !name.isEmpty else { throw .invalidUserName(name, reason: "it is empty") }
        guard name.count <= maximumNameLength else {
            throw .invalidUserName(name, reason: "it is longer than \(maximumNameLength) characters")
        }
        let allowed = name.unicodeScalars.allSatisfy { s in
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || "._@-".unicodeScalars.contains(s))
        }
        guard allowed else {
            throw .invalidUserName(name, reason: "only letters A-Z, digits and . _ @ - are allowed")
        }
        guard name.first != "-" else { throw .invalidUserName(name, reason: "it starts with '-'") }
    }
}
