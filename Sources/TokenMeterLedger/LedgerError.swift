import TokenMeterMoney

/// Everything the ledger refuses or fails at, with messages a user or operator can act on.
///
/// The CLI maps these to sysexits codes; the server maps them to OpenAI-format error bodies.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    // Users, keys and budgets.
    case userNotFound(String)
    case userIDNotFound(Int64)
    case userExists(String)
    case invalidUserName(String, reason: String)
    case userDisabled(String)
    case invalidAPIKey
    case apiKeyRevoked(prefix: String)
    case apiKeyNotFound(prefix: String)
    case apiKeyNotOwned(prefix: String, user: String)
    case invalidBudget(String)

    // Accounting.
    case budgetExhausted(BudgetShortfall)
    case requestCapExceeded(cap: Money, requested: Money)
    case duplicateRequestID(String)
    case reservationNotOpen(requestID: String)
    case invalidUsage(String)

    // The database itself.
    case databaseNotFound(path: String)
    case cannotCreateDatabase(path: String, reason: String)
    case cannotOpenDatabase(path: String, reason: String)
    case databaseInUse(path: String)
    case databaseBusy(String)
    /// The database server cannot be reached (PostgreSQL down, network gone) within the connection wait.
    case databaseUnavailable(String)
    case storage(String)

    public var description: String {
        switch self {
        case .userNotFound(let name):
            "no user named '\(name)' (see `tokenmeter users list`)"
        case .userIDNotFound(let id):
            "no user with id \(id)"
        case .userExists(let name):
            "a user named '\(name)' already exists (names are case-insensitive)"
        case .invalidUserName(let name, let reason):
            "'\(name)' is not a valid user name: \(reason)"
        case .userDisabled(let name):
            "user '\(name)' is disabled (enable with `tokenmeter users enable \(name)`)"
        case .invalidAPIKey:
            "the API key is not valid (expected tm_<prefix>_<secret> as issued by `tokenmeter keys create`)"
        case .apiKeyRevoked(let prefix):
            "the API key tm_\(prefix)_… has been revoked"
        case .apiKeyNotFound(let prefix):
            "no API key with prefix '\(prefix)' (see `tokenmeter keys list`)"
        case .apiKeyNotOwned(let prefix, let user):
            "the API key tm_\(prefix)_… does not belong to user '\(user)'"
        case .invalidBudget(let reason):
            "invalid budget: \(reason)"
        case .budgetExhausted(let s):
            s.description
        case .requestCapExceeded(let cap, let requested):
            "the request may cost up to \(requested), over the per-request maximum of \(cap); lower max_tokens"
        case .duplicateRequestID(let id):
            "request id '\(id)' is already in use by another reservation or record"
        case .reservationNotOpen(let id):
            "no open reservation for request '\(id)' (already settled, or never reserved)"
        case .invalidUsage(let reason):
            "invalid usage: \(reason)"
        case .databaseNotFound(let path):
            "no ledger database at \(path) (create one with `tokenmeter users add NAME`, or pass --db PATH)"
        case .cannotCreateDatabase(let path, let reason):
            "cannot create the ledger database at \(path): \(reason)"
        case .cannotOpenDatabase(let path, let reason):
            "cannot open the ledger database at \(path): \(reason)"
        case .databaseInUse(let path):
            "another TokenMeter server already has the ledger at \(path) open (only one may own its reservations)"
        case .databaseBusy(let reason):
            "the ledger database stayed locked past the busy timeout: \(reason); retry"
        case .databaseUnavailable(let reason):
            "the ledger database is unreachable: \(reason)"
        case .storage(let reason):
            "ledger storage error: \(reason)"
        }
    }
}
