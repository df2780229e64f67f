import GRDB

/// The ledger's schema history. Each migration is frozen once shipped: change the schema only by
/// appending a new one, so that a database made by any earlier version upgrades in place.
///
/// Units: every `*_at` column is milliseconds since 1970-01-01 UTC; every `*_pusd` column is pico-USD
/// (10^-12 USD, see `Money`); token counts are whole tokens. docs/LEDGER.md describes every column.
enum LedgerMigrations {
    /// Migration identifiers in order; the last one is the current schema version.
    static let names = ["v1-core", "v2-monthly-rollup", "v3-usage-ended-index"]

    /// The migrator with every migration registered.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-core", migrate: v1Core)
        m.registerMigration("v2-monthly-rollup", migrate: v2MonthlyRollup)
        m.registerMigration("v3-usage-ended-index", migrate: v3UsageEndedIndex)
        return m
    }

    /// Users, API keys, budgets, append-only usage records and open reservations.
    private static func v1Core(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE users (
                id          INTEGER PRIMARY KEY,
                name        TEXT NOT NULL COLLATE NOCASE UNIQUE
                            CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9._@-]*'
                                   AND name NOT GLOB '-*'),
                status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
                created_at  INTEGER NOT NULL
            ) STRICT;

            CREATE TABLE budgets (
                user_id              INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                monthly_limit_pusd   INTEGER CHECK (monthly_limit_pusd >= 0),
                monthly_token_limit  INTEGER CHECK (monthly_token_limit >= 0),
                max_request_pusd     INTEGER CHECK (max_request_pusd >= 0)
            ) STRICT;

            CREATE TABLE api_keys (
                id            INTEGER PRIMARY KEY,
                user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
                prefix        TEXT NOT NULL UNIQUE CHECK (length(prefix) = 8 AND prefix NOT GLOB '*[^a-z2-7]*'),
                key_sha256    BLOB NOT NULL CHECK (length(key_sha256) = 32),
                created_at    INTEGER NOT NULL,
                revoked_at    INTEGER CHECK (revoked_at >= created_at),
                last_used_at  INTEGER
            ) STRICT;
            CREATE INDEX api_keys_user ON api_keys(user_id);

            CREATE TABLE usage_records (
                id                          INTEGER PRIMARY KEY,
                request_id                  TEXT NOT NULL UNIQUE CHECK (length(request_id) BETWEEN 1 AND 200),
                user_id                     INTEGER NOT NULL REFERENCES users(id),
                api_key_id                  INTEGER NOT NULL REFERENCES api_keys(id),
                model                       TEXT NOT NULL,
                upstream                    TEXT NOT NULL,
                started_at                  INTEGER NOT NULL,
                ended_at                    INTEGER NOT NULL CHECK (ended_at >= started_at),
                status                      TEXT NOT NULL CHECK (status IN
                                            ('completed', 'cut_by_budget', 'client_cancelled', 'upstream_error', 'interrupted')),
                \(usageColumns)
            ) STRICT;
            CREATE INDEX usage_records_user_ended ON usage_records(user_id, ended_at);
            CREATE TRIGGER usage_records_append_only_update BEFORE UPDATE ON usage_records
            BEGIN SELECT RAISE(ABORT, 'usage_records are append-only'); END;
            CREATE TRIGGER usage_records_append_only_delete BEFORE DELETE ON usage_records
            BEGIN SELECT RAISE(ABORT, 'usage_records are append-only'); END;

            CREATE TABLE reservations (
                id                          INTEGER PRIMARY KEY,
                request_id                  TEXT NOT NULL UNIQUE CHECK (length(request_id) BETWEEN 1 AND 200),
                user_id                     INTEGER NOT NULL REFERENCES users(id),
                api_key_id                  INTEGER NOT NULL REFERENCES api_keys(id),
                model                       TEXT NOT NULL,
                upstream                    TEXT NOT NULL,
                started_at                  INTEGER NOT NULL,
                held_pusd                   INTEGER NOT NULL CHECK (held_pusd >= 0),
                held_tokens                 INTEGER NOT NULL CHECK (held_tokens >= 0),
                checkpoint_at               INTEGER CHECK (checkpoint_at >= started_at),
                \(usageColumns)
            ) STRICT;
            CREATE INDEX reservations_user ON reservations(user_id);
            """)
    }

    /// The usage columns shared by `usage_records` (final usage) and `reservations` (last checkpoint, zero
    /// before the first), then their table constraints; so they come last in both tables. Frozen as part of v1.
    private static let usageColumns = [
        "prompt_tokens               INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0)",
        "completion_tokens           INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0)",
        "provider_prompt_tokens      INTEGER CHECK (provider_prompt_tokens >= 0)",
        "provider_completion_tokens  INTEGER CHECK (provider_completion_tokens >= 0)",
        "provider_cached_tokens      INTEGER CHECK (provider_cached_tokens >= 0)",
        "provider_reasoning_tokens   INTEGER CHECK (provider_reasoning_tokens >= 0)",
        "billed_by                   TEXT NOT NULL DEFAULT 'local' CHECK (billed_by IN ('provider', 'local'))",
        "billed_tokens               INTEGER NOT NULL DEFAULT 0",
        "cost_pusd                   INTEGER NOT NULL DEFAULT 0 CHECK (cost_pusd >= 0)",
        "CHECK ((provider_prompt_tokens IS NULL) = (provider_completion_tokens IS NULL))",
        "CHECK (provider_prompt_tokens IS NOT NULL OR (provider_cached_tokens IS NULL AND provider_reasoning_tokens IS NULL))",
        "CHECK (billed_by = 'local' OR provider_prompt_tokens IS NOT NULL)",
        """
        CHECK (billed_tokens = CASE billed_by WHEN 'local' THEN prompt_tokens + completion_tokens \
        ELSE provider_prompt_tokens + provider_completion_tokens END)
        """,
    ].joined(separator: ",\n    ")

    /// Per-user, per-month totals of settled usage, kept by a trigger on every record insert and backfilled
    /// from existing records, so a reservation checks the month's spend in one row instead of summing the
    /// month's records.
    private static func v2MonthlyRollup(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE monthly_usage (
                user_id        INTEGER NOT NULL REFERENCES users(id),
                period         TEXT NOT NULL CHECK (period GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
                request_count  INTEGER NOT NULL CHECK (request_count >= 0),
                billed_tokens  INTEGER NOT NULL CHECK (billed_tokens >= 0),
                cost_pusd      INTEGER NOT NULL CHECK (cost_pusd >= 0),
                PRIMARY KEY (user_id, period)
            ) STRICT, WITHOUT ROWID;

            INSERT INTO monthly_usage (user_id, period, request_count, billed_tokens, cost_pusd)
            SELECT user_id, strftime('%Y-%m', ended_at / 1000, 'unixepoch'), COUNT(*), SUM(billed_tokens), SUM(cost_pusd)
            FROM usage_records GROUP BY 1, 2;

            CREATE TRIGGER usage_records_rollup AFTER INSERT ON usage_records
            BEGIN
                INSERT INTO monthly_usage (user_id, period, request_count, billed_tokens, cost_pusd)
                VALUES (NEW.user_id, strftime('%Y-%m', NEW.ended_at / 1000, 'unixepoch'), 1, NEW.billed_tokens,
                        NEW.cost_pusd)
                ON CONFLICT (user_id, period) DO UPDATE SET
                    request_count = request_count + 1,
                    billed_tokens = billed_tokens + excluded.billed_tokens,
                    cost_pusd = cost_pusd + excluded.cost_pusd;
            END;
            """)
    }

    /// An index on `usage_records(ended_at)` for monthly reports over all users: the month's records are
    /// one range of it instead of a scan of the whole history (the v1 index `(user_id, ended_at)` serves
    /// only one user's month).
    private static func v3UsageEndedIndex(_ db: Database) throws {
        try db.execute(sql: "CREATE INDEX usage_records_ended ON usage_records(ended_at)")
    }
}
