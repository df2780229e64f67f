import GRDB

/// A row type written from one code-defined column list: GRDB's `encode(to:)` and the accounting paths'
/// insert through a prepared statement the connection keeps (GRDB's record insert builds the statement and
/// a `PersistenceContainer` every time; reservations and usage records are inserted for every request).
protocol PreparedInsertRow: MutablePersistableRecord {
    /// The columns a new row is written with (all but `id`), in the order of ``columnValues``.
    static var columnNames: [String] { get }
    /// `INSERT INTO <table> (<columnNames>) VALUES (?, …)`; each type keeps it in a `static let` made with
    /// ``makeInsertSQL()``.
    static var insertSQL: String { get }
    var columnValues: [(any DatabaseValueConvertible)?] { get }
    var id: Int64? { get set }
}

extension PreparedInsertRow {
    static func makeInsertSQL() -> String {
        let columns = columnNames.joined(separator: ", "), placeholders = LedgerQueries.placeholders(columnNames)
        return "INSERT INTO \(databaseTableName) (\(columns)) VALUES (\(placeholders))"
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        for (name, value) in zip(Self.columnNames, columnValues) { container[name] = value }
    }

    /// Inserts the row through the kept prepared statement and sets ``id``.
    mutating func insertPrepared(_ db: Database) throws {
        _ = try LedgerQueries.cachedExecute(db, Self.insertSQL, StatementArguments(columnValues))
        id = db.lastInsertedRowID
    }
}
