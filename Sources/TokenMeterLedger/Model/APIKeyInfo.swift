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

/// A newly created key: the only time the full secret exists outside its owner's hands.
public struct IssuedAPIKey: Sendable {
    /// The stored description of the key.
    public var info: APIKeyInfo
    /// The full key, `tm_<prefix>_<secret>`, to hand to the user once; the ledger keeps only its hash.
    public var key: String

    /// An issued key.
    public init(info: APIKeyInfo, key: String) {
        self.info = info
        self.key = key
    }
}

/// The result of authenticating a presented key: whom to bill, under which limits.
public struct AuthenticatedKey: Sendable, Hashable {
    /// The key's owner (active: disabled users do not authenticate).
    public var user: User
    /// The key's identifier, to pass to `reserve`.
    public var apiKeyID: Int64
    /// The key's visible prefix, for logs.
    public var prefix: String
    /// The owner's budget.
    public var budget: Budget

    /// An authentication result.
    public init(user: User, apiKeyID: Int64, prefix: String, budget: Budget) {
        self.user = user
        self.apiKeyID = apiKeyID
        self.prefix = prefix
        self.budget = budget
    }
}
