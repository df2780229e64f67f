import GRDB

/// The ledger's schema history. Each migration is frozen once shipped: change the schema only by
/// appending a new one, so that a database made by any earlier version upgrades in place.
///
/// Units: every `*_at` column is milliseconds since 1970-01-01 UTC; every `*_pusd` column is pico-USD
/// (10^-12 USD, see `Money`); token counts are whole tokens. docs/LEDGER-SCHEMA.md describes every column.
enum LedgerMigrations {
    /// Migration identifiers in order; the last one is the current schema version.
    static let names = ["v1-core", "v2-monthly-rollup", "v3-daily-rollup", "v4-user-holds", "v5-estimates-overruns-drift", "v6-budget-alerts"]

    /// The migrator with every migration registered.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-core", migrate: v1Core)
        m.registerMigration("v2-monthly-rollup", migrate: v2MonthlyRollup)
        m.registerMigration("v3-daily-rollup", migrate: v3DailyRollup)
        m.registerMigration("v4-user-holds", migrate: v4UserHolds)
        m.registerMigration("v5-estimates-overruns-drift", migrate: v5EstimatesOverrunsDrift)
        m.registerMigration("v6-budget-alerts", migrate: v6BudgetAlerts)
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

    /// Per-UTC-day, per-user, per-model sums of settled usage (`daily_usage`), kept by a trigger on every
    /// record insert and backfilled from existing records, so a monthly report reads at most
    /// days × users × models rows however many records the month has. `day` is days since 1970-01-01 UTC
    /// (`ended_at / 86400000`); a NULL cached or reasoning sum means no record of the group reported one.
    private static func v3DailyRollup(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE daily_usage (
                day                         INTEGER NOT NULL CHECK (day >= 0),
                user_id                     INTEGER NOT NULL REFERENCES users(id),
                model                       TEXT NOT NULL,
                requests                    INTEGER NOT NULL CHECK (requests >= 0),
                prompt_tokens               INTEGER NOT NULL CHECK (prompt_tokens >= 0),
                completion_tokens           INTEGER NOT NULL CHECK (completion_tokens >= 0),
                provider_requests           INTEGER NOT NULL CHECK (provider_requests >= 0),
                provider_prompt_tokens      INTEGER NOT NULL CHECK (provider_prompt_tokens >= 0),
                provider_completion_tokens  INTEGER NOT NULL CHECK (provider_completion_tokens >= 0),
                cached_tokens               INTEGER CHECK (cached_tokens >= 0),
                reasoning_tokens            INTEGER CHECK (reasoning_tokens >= 0),
                billed_tokens               INTEGER NOT NULL CHECK (billed_tokens >= 0),
                cost_pusd                   INTEGER NOT NULL CHECK (cost_pusd >= 0),
                provider_billed_requests    INTEGER NOT NULL CHECK (provider_billed_requests >= 0),
                provider_billed_tokens      INTEGER NOT NULL CHECK (provider_billed_tokens >= 0),
                provider_billed_pusd        INTEGER NOT NULL CHECK (provider_billed_pusd >= 0),
                completed                   INTEGER NOT NULL CHECK (completed >= 0),
                cut_by_budget               INTEGER NOT NULL CHECK (cut_by_budget >= 0),
                client_cancelled            INTEGER NOT NULL CHECK (client_cancelled >= 0),
                upstream_error              INTEGER NOT NULL CHECK (upstream_error >= 0),
                interrupted                 INTEGER NOT NULL CHECK (interrupted >= 0),
                PRIMARY KEY (day, user_id, model)
            ) STRICT, WITHOUT ROWID;

            INSERT INTO daily_usage
            SELECT ended_at / 86400000, user_id, model,
                   COUNT(*), SUM(prompt_tokens), SUM(completion_tokens),
                   COUNT(provider_prompt_tokens), COALESCE(SUM(provider_prompt_tokens), 0),
                   COALESCE(SUM(provider_completion_tokens), 0),
                   SUM(provider_cached_tokens), SUM(provider_reasoning_tokens),
                   SUM(billed_tokens), SUM(cost_pusd),
                   SUM(billed_by = 'provider'), SUM(CASE billed_by WHEN 'provider' THEN billed_tokens ELSE 0 END),
                   SUM(CASE billed_by WHEN 'provider' THEN cost_pusd ELSE 0 END),
                   SUM(status = 'completed'), SUM(status = 'cut_by_budget'), SUM(status = 'client_cancelled'),
                   SUM(status = 'upstream_error'), SUM(status = 'interrupted')
            FROM usage_records GROUP BY 1, 2, 3;

            CREATE TRIGGER usage_records_daily_rollup AFTER INSERT ON usage_records
            BEGIN
                INSERT INTO daily_usage VALUES (
                    NEW.ended_at / 86400000, NEW.user_id, NEW.model,
                    1, NEW.prompt_tokens, NEW.completion_tokens,
                    NEW.provider_prompt_tokens IS NOT NULL, COALESCE(NEW.provider_prompt_tokens, 0),
                    COALESCE(NEW.provider_completion_tokens, 0),
                    NEW.provider_cached_tokens, NEW.provider_reasoning_tokens,
                    NEW.billed_tokens, NEW.cost_pusd,
                    NEW.billed_by = 'provider', CASE NEW.billed_by WHEN 'provider' THEN NEW.billed_tokens ELSE 0 END,
                    CASE NEW.billed_by WHEN 'provider' THEN NEW.cost_pusd ELSE 0 END,
                    NEW.status = 'completed', NEW.status = 'cut_by_budget', NEW.status = 'client_cancelled',
                    NEW.status = 'upstream_error', NEW.status = 'interrupted')
                ON CONFLICT (day, user_id, model) DO UPDATE SET
                    requests = requests + 1,
                    prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = completion_tokens + excluded.completion_tokens,
                    provider_requests = provider_requests + excluded.provider_requests,
                    provider_prompt_tokens = provider_prompt_tokens + excluded.provider_prompt_tokens,
                    provider_completion_tokens = provider_completion_tokens + excluded.provider_completion_tokens,
                    cached_tokens = CASE WHEN excluded.cached_tokens IS NULL THEN cached_tokens
                                         ELSE COALESCE(cached_tokens, 0) + excluded.cached_tokens END,
                    reasoning_tokens = CASE WHEN excluded.reasoning_tokens IS NULL THEN reasoning_tokens
                                            ELSE COALESCE(reasoning_tokens, 0) + excluded.reasoning_tokens END,
                    billed_tokens = billed_tokens + excluded.billed_tokens,
                    cost_pusd = cost_pusd + excluded.cost_pusd,
                    provider_billed_requests = provider_billed_requests + excluded.provider_billed_requests,
                    provider_billed_tokens = provider_billed_tokens + excluded.provider_billed_tokens,
                    provider_billed_pusd = provider_billed_pusd + excluded.provider_billed_pusd,
                    completed = completed + excluded.completed,
                    cut_by_budget = cut_by_budget + excluded.cut_by_budget,
                    client_cancelled = client_cancelled + excluded.client_cancelled,
                    upstream_error = upstream_error + excluded.upstream_error,
                    interrupted = interrupted + excluded.interrupted;
            END;
            """)
    }

    /// Per-user totals of the live reservations (`user_holds`): how many, and the sums of
    /// `MAX(held_pusd, cost_pusd)` and `MAX(held_tokens, billed_tokens)`, kept by triggers on every insert,
    /// usage update and delete of a reservation and backfilled from the open ones. Before v4 every
    /// reservation summed the user's live reservations inside the write transaction: at 500 concurrent
    /// streams of one user, 115 µs per reservation, growing with the streams; now it reads one row.
    private static func v4UserHolds(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE user_holds (
                user_id      INTEGER PRIMARY KEY REFERENCES users(id),
                live         INTEGER NOT NULL CHECK (live >= 0),
                held_pusd    INTEGER NOT NULL CHECK (held_pusd >= 0),
                held_tokens  INTEGER NOT NULL CHECK (held_tokens >= 0)
            ) STRICT;

            INSERT INTO user_holds (user_id, live, held_pusd, held_tokens)
            SELECT user_id, COUNT(*), SUM(MAX(held_pusd, cost_pusd)), SUM(MAX(held_tokens, billed_tokens))
            FROM reservations GROUP BY user_id;

            CREATE TRIGGER reservations_hold_insert AFTER INSERT ON reservations
            BEGIN
                INSERT INTO user_holds (user_id, live, held_pusd, held_tokens)
                VALUES (NEW.user_id, 1, MAX(NEW.held_pusd, NEW.cost_pusd), MAX(NEW.held_tokens, NEW.billed_tokens))
                ON CONFLICT (user_id) DO UPDATE SET
                    live = live + 1,
                    held_pusd = held_pusd + excluded.held_pusd,
                    held_tokens = held_tokens + excluded.held_tokens;
            END;

            CREATE TRIGGER reservations_hold_delete AFTER DELETE ON reservations
            BEGIN
                UPDATE user_holds SET
                    live = live - 1,
                    held_pusd = held_pusd - MAX(OLD.held_pusd, OLD.cost_pusd),
                    held_tokens = held_tokens - MAX(OLD.held_tokens, OLD.billed_tokens)
                WHERE user_id = OLD.user_id;
            END;

            CREATE TRIGGER reservations_hold_update AFTER UPDATE OF held_pusd, held_tokens, cost_pusd, billed_tokens
                ON reservations WHEN OLD.user_id = NEW.user_id
            BEGIN
                UPDATE user_holds SET
                    held_pusd = held_pusd - MAX(OLD.held_pusd, OLD.cost_pusd) + MAX(NEW.held_pusd, NEW.cost_pusd),
                    held_tokens = held_tokens - MAX(OLD.held_tokens, OLD.billed_tokens) + MAX(NEW.held_tokens, NEW.billed_tokens)
                WHERE user_id = NEW.user_id;
            END;

            CREATE TRIGGER reservations_user_fixed BEFORE UPDATE OF user_id ON reservations
                WHEN OLD.user_id != NEW.user_id
            BEGIN
                SELECT RAISE(ABORT, 'a reservation belongs to one user');
            END;
            """)
    }

    /// Billing off the happy path (docs/LEDGER.md, "Estimates, overruns and drift"):
    /// - the usage column group of `usage_records` and `reservations` gains `estimated_completion_tokens` and
    ///   `estimated_pusd`: the part of the completion count, and of the cost, that is an estimate (hidden output
    ///   the provider did not report), so reports and `/v1/usage` show exact and estimated amounts apart;
    /// - `usage_records.overrun_pusd`: what a bill came to above its request's hold;
    /// - `monthly_usage.estimated_pusd`, and in `daily_usage` the sums of the three, plus the local counts of
    ///   the records that have provider counts (`drift_local_prompt_tokens`, `drift_local_completion_tokens`),
    ///   so drift compares local and provider counts over the same records.
    /// Both rollup triggers are recreated to keep the new sums; existing rows are backfilled.
    private static func v5EstimatesOverrunsDrift(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE usage_records ADD COLUMN estimated_completion_tokens INTEGER NOT NULL DEFAULT 0
                CHECK (estimated_completion_tokens >= 0);
            ALTER TABLE usage_records ADD COLUMN estimated_pusd INTEGER NOT NULL DEFAULT 0 CHECK (estimated_pusd >= 0);
            ALTER TABLE usage_records ADD COLUMN overrun_pusd INTEGER NOT NULL DEFAULT 0 CHECK (overrun_pusd >= 0);
            ALTER TABLE reservations ADD COLUMN estimated_completion_tokens INTEGER NOT NULL DEFAULT 0
                CHECK (estimated_completion_tokens >= 0);
            ALTER TABLE reservations ADD COLUMN estimated_pusd INTEGER NOT NULL DEFAULT 0 CHECK (estimated_pusd >= 0);

            ALTER TABLE monthly_usage ADD COLUMN estimated_pusd INTEGER NOT NULL DEFAULT 0 CHECK (estimated_pusd >= 0);
            ALTER TABLE daily_usage ADD COLUMN estimated_completion_tokens INTEGER NOT NULL DEFAULT 0
                CHECK (estimated_completion_tokens >= 0);
            ALTER TABLE daily_usage ADD COLUMN estimated_pusd INTEGER NOT NULL DEFAULT 0 CHECK (estimated_pusd >= 0);
            ALTER TABLE daily_usage ADD COLUMN overrun_pusd INTEGER NOT NULL DEFAULT 0 CHECK (overrun_pusd >= 0);
            ALTER TABLE daily_usage ADD COLUMN drift_local_prompt_tokens INTEGER NOT NULL DEFAULT 0
                CHECK (drift_local_prompt_tokens >= 0);
            ALTER TABLE daily_usage ADD COLUMN drift_local_completion_tokens INTEGER NOT NULL DEFAULT 0
                CHECK (drift_local_completion_tokens >= 0);

            UPDATE daily_usage SET
                drift_local_prompt_tokens = (SELECT COALESCE(SUM(r.prompt_tokens), 0) FROM usage_records r
                    WHERE r.ended_at / 86400000 = daily_usage.day AND r.user_id = daily_usage.user_id
                      AND r.model = daily_usage.model AND r.provider_prompt_tokens IS NOT NULL),
                drift_local_completion_tokens = (SELECT COALESCE(SUM(r.completion_tokens), 0) FROM usage_records r
                    WHERE r.ended_at / 86400000 = daily_usage.day AND r.user_id = daily_usage.user_id
                      AND r.model = daily_usage.model AND r.provider_prompt_tokens IS NOT NULL);

            DROP TRIGGER usage_records_rollup;
            CREATE TRIGGER usage_records_rollup AFTER INSERT ON usage_records
            BEGIN
                INSERT INTO monthly_usage (user_id, period, request_count, billed_tokens, cost_pusd, estimated_pusd)
                VALUES (NEW.user_id, strftime('%Y-%m', NEW.ended_at / 1000, 'unixepoch'), 1, NEW.billed_tokens,
                        NEW.cost_pusd, NEW.estimated_pusd)
                ON CONFLICT (user_id, period) DO UPDATE SET
                    request_count = request_count + 1,
                    billed_tokens = billed_tokens + excluded.billed_tokens,
                    cost_pusd = cost_pusd + excluded.cost_pusd,
                    estimated_pusd = estimated_pusd + excluded.estimated_pusd;
            END;

            DROP TRIGGER usage_records_daily_rollup;
            CREATE TRIGGER usage_records_daily_rollup AFTER INSERT ON usage_records
            BEGIN
                INSERT INTO daily_usage (
                    day, user_id, model, requests, prompt_tokens, completion_tokens, provider_requests,
                    provider_prompt_tokens, provider_completion_tokens, cached_tokens, reasoning_tokens, billed_tokens,
                    cost_pusd, provider_billed_requests, provider_billed_tokens, provider_billed_pusd, completed,
                    cut_by_budget, client_cancelled, upstream_error, interrupted, estimated_completion_tokens,
                    estimated_pusd, overrun_pusd, drift_local_prompt_tokens, drift_local_completion_tokens)
                VALUES (
                    NEW.ended_at / 86400000, NEW.user_id, NEW.model,
                    1, NEW.prompt_tokens, NEW.completion_tokens,
                    NEW.provider_prompt_tokens IS NOT NULL, COALESCE(NEW.provider_prompt_tokens, 0),
                    COALESCE(NEW.provider_completion_tokens, 0),
                    NEW.provider_cached_tokens, NEW.provider_reasoning_tokens,
                    NEW.billed_tokens, NEW.cost_pusd,
                    NEW.billed_by = 'provider', CASE NEW.billed_by WHEN 'provider' THEN NEW.billed_tokens ELSE 0 END,
                    CASE NEW.billed_by WHEN 'provider' THEN NEW.cost_pusd ELSE 0 END,
                    NEW.status = 'completed', NEW.status = 'cut_by_budget', NEW.status = 'client_cancelled',
                    NEW.status = 'upstream_error', NEW.status = 'interrupted',
                    NEW.estimated_completion_tokens, NEW.estimated_pusd, NEW.overrun_pusd,
                    CASE WHEN NEW.provider_prompt_tokens IS NULL THEN 0 ELSE NEW.prompt_tokens END,
                    CASE WHEN NEW.provider_prompt_tokens IS NULL THEN 0 ELSE NEW.completion_tokens END)
                ON CONFLICT (day, user_id, model) DO UPDATE SET
                    requests = requests + 1,
                    prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = completion_tokens + excluded.completion_tokens,
                    provider_requests = provider_requests + excluded.provider_requests,
                    provider_prompt_tokens = provider_prompt_tokens + excluded.provider_prompt_tokens,
                    provider_completion_tokens = provider_completion_tokens + excluded.provider_completion_tokens,
                    cached_tokens = CASE WHEN excluded.cached_tokens IS NULL THEN cached_tokens
                                         ELSE COALESCE(cached_tokens, 0) + excluded.cached_tokens END,
                    reasoning_tokens = CASE WHEN excluded.reasoning_tokens IS NULL THEN reasoning_tokens
                                            ELSE COALESCE(reasoning_tokens, 0) + excluded.reasoning_tokens END,
                    billed_tokens = billed_tokens + excluded.billed_tokens,
                    cost_pusd = cost_pusd + excluded.cost_pusd,
                    provider_billed_requests = provider_billed_requests + excluded.provider_billed_requests,
                    provider_billed_tokens = provider_billed_tokens + excluded.provider_billed_tokens,
                    provider_billed_pusd = provider_billed_pusd + excluded.provider_billed_pusd,
                    completed = completed + excluded.completed,
                    cut_by_budget = cut_by_budget + excluded.cut_by_budget,
                    client_cancelled = client_cancelled + excluded.client_cancelled,
                    upstream_error = upstream_error + excluded.upstream_error,
                    interrupted = interrupted + excluded.interrupted,
                    estimated_completion_tokens = estimated_completion_tokens + excluded.estimated_completion_tokens,
                    estimated_pusd = estimated_pusd + excluded.estimated_pusd,
                    overrun_pusd = overrun_pusd + excluded.overrun_pusd,
                    drift_local_prompt_tokens = drift_local_prompt_tokens + excluded.drift_local_prompt_tokens,
                    drift_local_completion_tokens = drift_local_completion_tokens + excluded.drift_local_completion_tokens;
            END;
            """)
    }

    /// Budget alerts: one row per user, month, limit and threshold (the unique key is what makes each fire
    /// once), with the webhook's delivery state.
    private static func v6BudgetAlerts(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE budget_alerts (
                id                 INTEGER PRIMARY KEY,
                user_id            INTEGER NOT NULL REFERENCES users(id),
                period             TEXT NOT NULL CHECK (period GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
                limit_kind         TEXT NOT NULL CHECK (limit_kind IN ('usd', 'tokens')),
                threshold_percent  INTEGER NOT NULL CHECK (threshold_percent BETWEEN 1 AND 1000),
                limit_value        INTEGER NOT NULL CHECK (limit_value >= 0),
                spent              INTEGER NOT NULL CHECK (spent >= 0),
                committed          INTEGER NOT NULL CHECK (committed >= 0),
                reason             TEXT NOT NULL CHECK (reason IN ('spent', 'limit_reached')),
                fired_at           INTEGER NOT NULL,
                delivered_at       INTEGER,
                attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                last_error         TEXT,
                claimed_until      INTEGER,
                UNIQUE (user_id, period, limit_kind, threshold_percent)
            ) STRICT;
            CREATE INDEX budget_alerts_fired ON budget_alerts(fired_at);
            """)
    }
}
