import Foundation

/// What the ledger knows about an API key: never the secret, only its visible prefix.
public struct APIKeyInfo: Sendable, Hashable {
    /// The ledger's identifier for the key.
    public var id: Int64
    /// The key's owner.
    public var userID: Int64
    /// The owner's name (for listings).
    public var userName: String
    /// The visible 8-character prefix, `tm_<prefix>_…` (see ``APIKeyFormat``).
    public var prefix: String
    /// When the key was created (UTC, millisecond resolution).
    public var createdAt: Date
    /// When it was revoked, or nil while it is valid.
    public var revokedAt: Date?
    /// When a request with it last reserved budget, or nil if never.
    public var lastUsedAt: Date?

    /// A key value as stored in the ledger.
    public init(id: Int64, userID: Int64, userName: String, prefix: String, createdAt: Date, revokedAt: Date?,
                lastUsedAt: Date?) {
        self.id = id
        self.userID = userID
        self.userName = userName
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    /// The prefix as people see it in listings: `tm_<prefix>_…`.
    public var displayPrefix: String { "\(APIKeyFormat.scheme)_\(prefix)_…" }
}
