/// Administration of users, API keys and budgets: what `tokenmeter users|keys` and the server's
/// `/admin/` routes do. Implemented by ``SQLiteUsageStore``; a second backend implements it too.
///
/// Errors are ``LedgerError``.
public protocol LedgerAdministration: Sendable {
    /// Adds an active user with `budget`. Throws `.userExists`, `.invalidUserName` or `.invalidBudget`.
    func addUser(name: String, budget: Budget) async throws -> User

    /// All users, by name.
    func listUsers() async throws -> [User]

    /// The user called `name` (case-insensitive). Throws `.userNotFound`.
    func user(named name: String) async throws -> User

    /// The user with `id`. Throws `.userIDNotFound`.
    func user(id: Int64) async throws -> User

    /// Applies `patch` to the user's budget and returns the new budget. Throws `.invalidBudget`.
    func updateBudget(userID: Int64, _ patch: BudgetPatch) async throws -> Budget

    /// Enables or disables a user. A disabled user's keys stop authenticating; history is kept.
    func setStatus(userID: Int64, _ status: UserStatus) async throws -> User

    /// Creates a key for the user; the returned ``IssuedAPIKey/key`` is the only copy of the secret.
    func createAPIKey(userID: Int64) async throws -> IssuedAPIKey

    /// Keys of one user, or of all users when `userID` is nil, oldest first. Prefixes only.
    func listAPIKeys(userID: Int64?) async throws -> [APIKeyInfo]

    /// Revokes the key with `prefix` (as printed by `keys list`, with or without `tm_` and `_…`).
    /// Revoking a revoked key is a no-op that returns it. Throws `.apiKeyNotFound`.
    func revokeAPIKey(prefix: String) async throws -> APIKeyInfo
}
