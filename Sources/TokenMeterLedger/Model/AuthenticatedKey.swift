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
