import PostgresNIO

/// A statement of the accounting paths, prepared once per pooled connection: every request runs the same few, so
/// PostgreSQL parses and plans each once rather than on every request.
protocol LedgerStatement {
    /// The prepared statement's name on the connection.
    static var name: String { get }
    static var sql: String { get }
}

/// ``LedgerStatement`` `S` with its bound values, as PostgresNIO executes it; rows come back undecoded.
struct Prepared<S: LedgerStatement>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { S.name }
    static var sql: String { S.sql }

    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// The accounting statements. `Reserve` and `Extend` go out unprepared, queued together with `COMMIT`
/// (`PostgresUsageStore.pipelinedWrite`): one round trip fewer is worth more than the parse they save.
enum Statements {
    enum Authenticate: LedgerStatement {
        static let name = "tokenmeter_authenticate"
        static let sql = """
            SELECT k.id, k.key_sha256, k.revoked_at IS NOT NULL, u.id, u.name, u.status, u.created_at,
                   b.monthly_limit_pusd, b.monthly_token_limit, b.max_request_pusd
            FROM api_keys k JOIN users u ON u.id = k.user_id LEFT JOIN budgets b ON b.user_id = u.id
            WHERE k.prefix = $1
            """
    }

    enum LockStatus: LedgerStatement {
        static let name = "tokenmeter_lock_status"
        static let sql = "SELECT * FROM tokenmeter_lock_status($1, $2, $3, $4, $5)"
    }

    enum Reserve: LedgerStatement {
        static let name = "tokenmeter_reserve"
        static let sql = """
            WITH used AS (UPDATE api_keys SET last_used_at = $6 WHERE id = $3)
            INSERT INTO reservations (request_id, user_id, api_key_id, model, upstream, started_at, held_pusd,
                                      held_tokens, instance_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            RETURNING id
            """
    }

    enum Extend: LedgerStatement {
        static let name = "tokenmeter_extend"
        static let sql = "UPDATE reservations SET held_pusd = $2, held_tokens = $3 WHERE id = $1"
    }

    enum Checkpoint: LedgerStatement {
        static let name = "tokenmeter_checkpoint"
        static let sql = "SELECT tokenmeter_checkpoint($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    }

    enum Settle: LedgerStatement {
        static let name = "tokenmeter_settle"
        static let sql = "SELECT * FROM tokenmeter_settle($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    }
}

extension PostgresBindings {
    /// Appends the usage columns in ``UsageColumns/names`` order.
    mutating func append(usage u: MeteredUsage) {
        append(u.promptTokens)
        append(u.completionTokens)
        append(u.provider?.promptTokens)
        append(u.provider?.completionTokens)
        append(u.provider?.cachedTokens)
        append(u.provider?.reasoningTokens)
        append(u.billedBy.rawValue)
        append(u.billedTokens)
        append(u.cost.picoUSD)
        append(u.estimatedCompletionTokens)
        append(u.estimatedCost.picoUSD)
    }
}
