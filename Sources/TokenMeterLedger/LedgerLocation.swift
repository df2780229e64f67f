/// Where a ledger lives, as `--db`, `TOKENMETER_DB` and the configuration's `database:` name it: a
/// `postgres://` or `postgresql://` URL is a shared PostgreSQL ledger (``PostgresUsageStore``), anything else the
/// path of a SQLite file (``SQLiteUsageStore``).
public enum LedgerLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    public init(_ text: String) {
        self = PostgresURL.isPostgres(text) ? .postgres(url: text) : .sqlite(path: text)
    }

    /// The location for messages and logs: a URL's password is replaced by `***`.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url): PostgresURL.redacted(url)
        }
    }
}
