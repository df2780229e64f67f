/// The PostgreSQL ledger's schema history: the same tables, constraints and rollups as the SQLite ledger
/// (``LedgerMigrations``, docs/LEDGER-SCHEMA.md), plus what several instances need. Each migration is a list of
/// statements (the extended query protocol takes one per query) and is frozen once shipped: change the schema
/// only by appending a migration. They run under an advisory lock, so instances starting together apply each
/// once.
///
/// Units are those of the SQLite ledger: `*_at` in milliseconds since 1970-01-01 UTC, `*_pusd` in pico-USD, so
/// `tokenmeter ledger copy` moves values unchanged. Differences, each for a reason:
/// - names are unique case-insensitively through an index on `lower(name)` (SQLite: `COLLATE NOCASE`);
/// - rollups and hold totals are kept by PL/pgSQL triggers in the writing transaction, like SQLite's triggers;
/// - `instances` and `reservations.instance_id`: which gateway holds each reservation, so the survivors can
///   settle the reservations of one that stopped sending heartbeats (docs/DEPLOYMENT.md);
/// - the accounting transactions run as functions (`tokenmeter_*`), so each is one round trip that takes the
///   user's `user_holds` row lock first (the lock order that keeps them free of deadlocks; docs/LEDGER.md).
enum PostgresMigrations {
    /// Migration names in order; the last is the schema version.
    static var names: [String] { all.map(\.name) }

    static let all: [(name: String, statements: [String])] = [
        ("pg1-ledger", pg1Ledger),
    ]

    /// The advisory lock key taken while migrating ("tokenmtr" in ASCII).
    static let advisoryLock: Int64 = 0x746F6B656E6D7472

    /// The database's clock in ledger milliseconds, for heartbeats: every instance compares against the same clock.
    static let nowMilliseconds = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    /// Usage columns, as in `LedgerMigrations.usageColumns` (SQLite v1 plus the v5 estimate columns).
    private static let usageColumns = """
        prompt_tokens               bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
        completion_tokens           bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
        provider_prompt_tokens      bigint CHECK (provider_prompt_tokens >= 0),
        provider_completion_tokens  bigint CHECK (provider_completion_tokens >= 0),
        provider_cached_tokens      bigint CHECK (provider_cached_tokens >= 0),
        provider_reasoning_tokens   bigint CHECK (provider_reasoning_tokens >= 0),
        billed_by                   text NOT NULL DEFAULT 'local' CHECK (billed_by IN ('provider', 'local')),
        billed_tokens               bigint NOT NULL DEFAULT 0,
        cost_pusd                   bigint NOT NULL DEFAULT 0 CHECK (cost_pusd >= 0),
        estimated_completion_tokens bigint NOT NULL DEFAULT 0 CHECK (estimated_completion_tokens >= 0),
        estimated_pusd              bigint NOT NULL DEFAULT 0 CHECK (estimated_pusd >= 0),
        CHECK ((provider_prompt_tokens IS NULL) = (provider_completion_tokens IS NULL)),
        CHECK (provider_prompt_tokens IS NOT NULL OR (provider_cached_tokens IS NULL AND provider_reasoning_tokens IS NULL)),
        CHECK (billed_by = 'local' OR provider_prompt_tokens IS NOT NULL),
        CHECK (billed_tokens = CASE billed_by WHEN 'local' THEN prompt_tokens + completion_tokens
               ELSE provider_prompt_tokens + provider_completion_tokens END)
        """

    /// The usage columns of a checkpoint or settle, as function parameters `p_…` in ``UsageColumns/names`` order.
    private static let usageParameters = """
        p_prompt bigint, p_completion bigint, p_provider_prompt bigint, p_provider_completion bigint,
        p_provider_cached bigint, p_provider_reasoning bigint, p_billed_by text, p_billed_tokens bigint,
        p_cost bigint, p_estimated_completion bigint, p_estimated_pusd bigint
        """
    private static let usageArguments = """
        p_prompt, p_completion, p_provider_prompt, p_provider_completion, p_provider_cached, p_provider_reasoning,
        p_billed_by, p_billed_tokens, p_cost, p_estimated_completion, p_estimated_pusd
        """
    private static var usageColumnList: String { UsageColumns.names.joined(separator: ", ") }

    /// The columns of a usage record as `PostgresUsageStore.decodeRecord` reads them, in order, with their types.
    static let recordColumns: [(name: String, type: String)] = [
        ("id", "bigint"), ("request_id", "text"), ("user_id", "bigint"), ("api_key_id", "bigint"), ("model", "text"),
        ("upstream", "text"), ("started_at", "bigint"), ("ended_at", "bigint"), ("status", "text"),
        ("overrun_pusd", "bigint"), ("prompt_tokens", "bigint"), ("completion_tokens", "bigint"),
        ("provider_prompt_tokens", "bigint"), ("provider_completion_tokens", "bigint"),
        ("provider_cached_tokens", "bigint"), ("provider_reasoning_tokens", "bigint"), ("billed_by", "text"),
        ("billed_tokens", "bigint"), ("cost_pusd", "bigint"), ("estimated_completion_tokens", "bigint"),
        ("estimated_pusd", "bigint"),
    ]

    /// `recordColumns` selected from the alias `u`.
    static let recordColumnsOfU = recordColumns.map { "u." + $0.name }.joined(separator: ", ")
    /// `recordColumns` as the output columns of a function (`name type, …`).
    static let recordColumnDefinitions = recordColumns.map { $0.name + " " + $0.type }.joined(separator: ", ")

    private static let pg1Ledger: [String] = [
        """
        CREATE TABLE users (
            id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$' AND name !~ '^-'),
            status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
            created_at  bigint NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX users_name_nocase ON users (lower(name))",
        """
        CREATE TABLE budgets (
            user_id              bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            monthly_limit_pusd   bigint CHECK (monthly_limit_pusd >= 0),
            monthly_token_limit  bigint CHECK (monthly_token_limit >= 0),
            max_request_pusd     bigint CHECK (max_request_pusd >= 0)
        )
        """,
        """
        CREATE TABLE api_keys (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            user_id       bigint NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
            prefix        text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z2-7]{8}$'),
            key_sha256    bytea NOT NULL CHECK (octet_length(key_sha256) = 32),
            created_at    bigint NOT NULL,
            revoked_at    bigint CHECK (revoked_at >= created_at),
            last_used_at  bigint
        )
        """,
        "CREATE INDEX api_keys_user ON api_keys(user_id)",
        """
        CREATE TABLE usage_records (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            request_id    text NOT NULL UNIQUE CHECK (octet_length(request_id) BETWEEN 1 AND 200),
            user_id       bigint NOT NULL REFERENCES users(id),
            api_key_id    bigint NOT NULL REFERENCES api_keys(id),
            model         text NOT NULL,
            upstream      text NOT NULL,
            started_at    bigint NOT NULL,
            ended_at      bigint NOT NULL CHECK (ended_at >= started_at),
            status        text NOT NULL CHECK (status IN
                          ('completed', 'cut_by_budget', 'client_cancelled', 'upstream_error', 'interrupted')),
            overrun_pusd  bigint NOT NULL DEFAULT 0 CHECK (overrun_pusd >= 0),
            \(usageColumns)
        )
        """,
        "CREATE INDEX usage_records_user_ended ON usage_records(user_id, ended_at)",
        """
        CREATE FUNCTION tokenmeter_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'usage_records are append-only';
        END $$
        """,
        """
        CREATE TRIGGER usage_records_append_only BEFORE UPDATE OR DELETE ON usage_records
            FOR EACH ROW EXECUTE FUNCTION tokenmeter_append_only()
        """,
        """
        CREATE TRIGGER usage_records_no_truncate BEFORE TRUNCATE ON usage_records
            FOR EACH STATEMENT EXECUTE FUNCTION tokenmeter_append_only()
        """,
        // Gateways sharing the ledger: each registers and sends heartbeats by the database's clock.
        """
        CREATE TABLE instances (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name          text NOT NULL,
            started_at    bigint NOT NULL,
            heartbeat_at  bigint NOT NULL
        )
        """,
        """
        CREATE TABLE reservations (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            request_id    text NOT NULL UNIQUE CHECK (octet_length(request_id) BETWEEN 1 AND 200),
            user_id       bigint NOT NULL REFERENCES users(id),
            api_key_id    bigint NOT NULL REFERENCES api_keys(id),
            model         text NOT NULL,
            upstream      text NOT NULL,
            started_at    bigint NOT NULL,
            held_pusd     bigint NOT NULL CHECK (held_pusd >= 0),
            held_tokens   bigint NOT NULL CHECK (held_tokens >= 0),
            checkpoint_at bigint CHECK (checkpoint_at >= started_at),
            instance_id   bigint REFERENCES instances(id),
            \(usageColumns)
        )
        """,
        "CREATE INDEX reservations_user ON reservations(user_id)",
        "CREATE INDEX reservations_instance ON reservations(instance_id)",
        """
        CREATE TABLE monthly_usage (
            user_id        bigint NOT NULL REFERENCES users(id),
            period         text NOT NULL CHECK (period ~ '^[0-9]{4}-[01][0-9]$'),
            request_count  bigint NOT NULL CHECK (request_count >= 0),
            billed_tokens  bigint NOT NULL CHECK (billed_tokens >= 0),
            cost_pusd      bigint NOT NULL CHECK (cost_pusd >= 0),
            estimated_pusd bigint NOT NULL DEFAULT 0 CHECK (estimated_pusd >= 0),
            PRIMARY KEY (user_id, period)
        )
        """,
        """
        CREATE TABLE daily_usage (
            day                           bigint NOT NULL CHECK (day >= 0),
            user_id                       bigint NOT NULL REFERENCES users(id),
            model                         text NOT NULL,
            requests                      bigint NOT NULL CHECK (requests >= 0),
            prompt_tokens                 bigint NOT NULL CHECK (prompt_tokens >= 0),
            completion_tokens             bigint NOT NULL CHECK (completion_tokens >= 0),
            provider_requests             bigint NOT NULL CHECK (provider_requests >= 0),
            provider_prompt_tokens        bigint NOT NULL CHECK (provider_prompt_tokens >= 0),
            provider_completion_tokens    bigint NOT NULL CHECK (provider_completion_tokens >= 0),
            cached_tokens                 bigint CHECK (cached_tokens >= 0),
            reasoning_tokens              bigint CHECK (reasoning_tokens >= 0),
            billed_tokens                 bigint NOT NULL CHECK (billed_tokens >= 0),
            cost_pusd                     bigint NOT NULL CHECK (cost_pusd >= 0),
            provider_billed_requests      bigint NOT NULL CHECK (provider_billed_requests >= 0),
            provider_billed_tokens        bigint NOT NULL CHECK (provider_billed_tokens >= 0),
            provider_billed_pusd          bigint NOT NULL CHECK (provider_billed_pusd >= 0),
            completed                     bigint NOT NULL CHECK (completed >= 0),
            cut_by_budget                 bigint NOT NULL CHECK (cut_by_budget >= 0),
            client_cancelled              bigint NOT NULL CHECK (client_cancelled >= 0),
            upstream_error                bigint NOT NULL CHECK (upstream_error >= 0),
            interrupted                   bigint NOT NULL CHECK (interrupted >= 0),
            estimated_completion_tokens   bigint NOT NULL DEFAULT 0 CHECK (estimated_completion_tokens >= 0),
            estimated_pusd                bigint NOT NULL DEFAULT 0 CHECK (estimated_pusd >= 0),
            overrun_pusd                  bigint NOT NULL DEFAULT 0 CHECK (overrun_pusd >= 0),
            drift_local_prompt_tokens     bigint NOT NULL DEFAULT 0 CHECK (drift_local_prompt_tokens >= 0),
            drift_local_completion_tokens bigint NOT NULL DEFAULT 0 CHECK (drift_local_completion_tokens >= 0),
            PRIMARY KEY (day, user_id, model)
        )
        """,
        // One row per user, created with the user: the row every accounting transaction of that user locks first.
        """
        CREATE TABLE user_holds (
            user_id      bigint PRIMARY KEY REFERENCES users(id),
            live         bigint NOT NULL CHECK (live >= 0),
            held_pusd    bigint NOT NULL CHECK (held_pusd >= 0),
            held_tokens  bigint NOT NULL CHECK (held_tokens >= 0)
        )
        """,
        """
        CREATE FUNCTION tokenmeter_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO monthly_usage AS m (user_id, period, request_count, billed_tokens, cost_pusd, estimated_pusd)
            VALUES (NEW.user_id, to_char(to_timestamp(NEW.ended_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM'), 1,
                    NEW.billed_tokens, NEW.cost_pusd, NEW.estimated_pusd)
            ON CONFLICT (user_id, period) DO UPDATE SET
                request_count = m.request_count + 1,
                billed_tokens = m.billed_tokens + EXCLUDED.billed_tokens,
                cost_pusd = m.cost_pusd + EXCLUDED.cost_pusd,
                estimated_pusd = m.estimated_pusd + EXCLUDED.estimated_pusd;
            INSERT INTO daily_usage AS d (
                day, user_id, model, requests, prompt_tokens, completion_tokens, provider_requests,
                provider_prompt_tokens, provider_completion_tokens, cached_tokens, reasoning_tokens, billed_tokens,
                cost_pusd, provider_billed_requests, provider_billed_tokens, provider_billed_pusd, completed,
                cut_by_budget, client_cancelled, upstream_error, interrupted, estimated_completion_tokens,
                estimated_pusd, overrun_pusd, drift_local_prompt_tokens, drift_local_completion_tokens)
            VALUES (
                NEW.ended_at / 86400000, NEW.user_id, NEW.model,
                1, NEW.prompt_tokens, NEW.completion_tokens,
                (NEW.provider_prompt_tokens IS NOT NULL)::int, COALESCE(NEW.provider_prompt_tokens, 0),
                COALESCE(NEW.provider_completion_tokens, 0),
                NEW.provider_cached_tokens, NEW.provider_reasoning_tokens,
                NEW.billed_tokens, NEW.cost_pusd,
                (NEW.billed_by = 'provider')::int, CASE NEW.billed_by WHEN 'provider' THEN NEW.billed_tokens ELSE 0 END,
                CASE NEW.billed_by WHEN 'provider' THEN NEW.cost_pusd ELSE 0 END,
                (NEW.status = 'completed')::int, (NEW.status = 'cut_by_budget')::int,
                (NEW.status = 'client_cancelled')::int, (NEW.status = 'upstream_error')::int,
                (NEW.status = 'interrupted')::int,
                NEW.estimated_completion_tokens, NEW.estimated_pusd, NEW.overrun_pusd,
                CASE WHEN NEW.provider_prompt_tokens IS NULL THEN 0 ELSE NEW.prompt_tokens END,
                CASE WHEN NEW.provider_prompt_tokens IS NULL THEN 0 ELSE NEW.completion_tokens END)
            ON CONFLICT (day, user_id, model) DO UPDATE SET
                requests = d.requests + 1,
                prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
                completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
                provider_requests = d.provider_requests + EXCLUDED.provider_requests,
                provider_prompt_tokens = d.provider_prompt_tokens + EXCLUDED.provider_prompt_tokens,
                provider_completion_tokens = d.provider_completion_tokens + EXCLUDED.provider_completion_tokens,
                cached_tokens = CASE WHEN EXCLUDED.cached_tokens IS NULL THEN d.cached_tokens
                                     ELSE COALESCE(d.cached_tokens, 0) + EXCLUDED.cached_tokens END,
                reasoning_tokens = CASE WHEN EXCLUDED.reasoning_tokens IS NULL THEN d.reasoning_tokens
                                        ELSE COALESCE(d.reasoning_tokens, 0) + EXCLUDED.reasoning_tokens END,
                billed_tokens = d.billed_tokens + EXCLUDED.billed_tokens,
                cost_pusd = d.cost_pusd + EXCLUDED.cost_pusd,
                provider_billed_requests = d.provider_billed_requests + EXCLUDED.provider_billed_requests,
                provider_billed_tokens = d.provider_billed_tokens + EXCLUDED.provider_billed_tokens,
                provider_billed_pusd = d.provider_billed_pusd + EXCLUDED.provider_billed_pusd,
                completed = d.completed + EXCLUDED.completed,
                cut_by_budget = d.cut_by_budget + EXCLUDED.cut_by_budget,
                client_cancelled = d.client_cancelled + EXCLUDED.client_cancelled,
                upstream_error = d.upstream_error + EXCLUDED.upstream_error,
                interrupted = d.interrupted + EXCLUDED.interrupted,
                estimated_completion_tokens = d.estimated_completion_tokens + EXCLUDED.estimated_completion_tokens,
                estimated_pusd = d.estimated_pusd + EXCLUDED.estimated_pusd,
                overrun_pusd = d.overrun_pusd + EXCLUDED.overrun_pusd,
                drift_local_prompt_tokens = d.drift_local_prompt_tokens + EXCLUDED.drift_local_prompt_tokens,
                drift_local_completion_tokens = d.drift_local_completion_tokens + EXCLUDED.drift_local_completion_tokens;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER usage_records_rollup AFTER INSERT ON usage_records
            FOR EACH ROW EXECUTE FUNCTION tokenmeter_rollup()
        """,
        // A live reservation counts as the larger of its hold and its last checkpoint, as in SQLite's v4.
        """
        CREATE FUNCTION tokenmeter_holds() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO user_holds AS h (user_id, live, held_pusd, held_tokens)
                VALUES (NEW.user_id, 1, GREATEST(NEW.held_pusd, NEW.cost_pusd), GREATEST(NEW.held_tokens, NEW.billed_tokens))
                ON CONFLICT (user_id) DO UPDATE SET
                    live = h.live + 1,
                    held_pusd = h.held_pusd + EXCLUDED.held_pusd,
                    held_tokens = h.held_tokens + EXCLUDED.held_tokens;
            ELSIF TG_OP = 'DELETE' THEN
                UPDATE user_holds SET
                    live = live - 1,
                    held_pusd = held_pusd - GREATEST(OLD.held_pusd, OLD.cost_pusd),
                    held_tokens = held_tokens - GREATEST(OLD.held_tokens, OLD.billed_tokens)
                WHERE user_id = OLD.user_id;
            ELSE
                IF NEW.user_id <> OLD.user_id THEN
                    RAISE EXCEPTION 'a reservation belongs to one user';
                END IF;
                UPDATE user_holds SET
                    held_pusd = held_pusd - GREATEST(OLD.held_pusd, OLD.cost_pusd) + GREATEST(NEW.held_pusd, NEW.cost_pusd),
                    held_tokens = held_tokens - GREATEST(OLD.held_tokens, OLD.billed_tokens)
                                  + GREATEST(NEW.held_tokens, NEW.billed_tokens)
                WHERE user_id = NEW.user_id;
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER reservations_holds AFTER INSERT OR UPDATE OR DELETE ON reservations
            FOR EACH ROW EXECUTE FUNCTION tokenmeter_holds()
        """,
        // Locks the user's `user_holds` row, then (in a fresh snapshot: READ COMMITTED takes one per statement of a
        // volatile function) reads everything a reservation or an extension decides on. No row: no such user.
        """
        CREATE FUNCTION tokenmeter_lock_status(p_user bigint, p_period text, p_key bigint, p_request text,
                                               p_reservation bigint)
        RETURNS TABLE (user_name text, user_status text, user_created_at bigint,
                       monthly_limit_pusd bigint, monthly_token_limit bigint, max_request_pusd bigint,
                       live bigint, held_pusd bigint, held_tokens bigint,
                       settled_requests bigint, settled_tokens bigint, settled_pusd bigint, settled_estimated_pusd bigint,
                       key_user_id bigint, key_prefix text, key_revoked boolean, request_in_use boolean,
                       reservation_held_pusd bigint, reservation_held_tokens bigint,
                       reservation_cost_pusd bigint, reservation_billed_tokens bigint)
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        BEGIN
            PERFORM 1 FROM user_holds WHERE user_holds.user_id = p_user FOR UPDATE;
            IF NOT FOUND THEN
                IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user) THEN RETURN; END IF;
                INSERT INTO user_holds VALUES (p_user, 0, 0, 0) ON CONFLICT DO NOTHING;
                PERFORM 1 FROM user_holds WHERE user_holds.user_id = p_user FOR UPDATE;
            END IF;
            RETURN QUERY
            SELECT u.name, u.status, u.created_at,
                   b.monthly_limit_pusd, b.monthly_token_limit, b.max_request_pusd,
                   h.live, h.held_pusd, h.held_tokens,
                   m.request_count, m.billed_tokens, m.cost_pusd, m.estimated_pusd,
                   k.user_id, k.prefix, k.revoked_at IS NOT NULL,
                   p_request IS NOT NULL AND (EXISTS (SELECT 1 FROM usage_records WHERE request_id = p_request)
                                              OR EXISTS (SELECT 1 FROM reservations WHERE request_id = p_request)),
                   r.held_pusd, r.held_tokens, r.cost_pusd, r.billed_tokens
            FROM users u
            JOIN user_holds h ON h.user_id = u.id
            LEFT JOIN budgets b ON b.user_id = u.id
            LEFT JOIN monthly_usage m ON m.user_id = u.id AND m.period = p_period
            LEFT JOIN api_keys k ON k.id = p_key
            LEFT JOIN reservations r ON r.id = p_reservation AND r.user_id = u.id
            WHERE u.id = p_user;
        END $$
        """,
        // A checkpoint: 1 written, 0 superseded by a newer one (fewer completion tokens lose), -1 not open.
        """
        CREATE FUNCTION tokenmeter_checkpoint(p_reservation bigint, p_request text, p_at bigint, \(usageParameters))
        RETURNS integer LANGUAGE plpgsql AS $$
        DECLARE
            owner bigint;
        BEGIN
            SELECT user_id INTO owner FROM reservations WHERE id = p_reservation AND request_id = p_request;
            IF NOT FOUND THEN RETURN -1; END IF;
            PERFORM 1 FROM user_holds WHERE user_id = owner FOR UPDATE;
            UPDATE reservations SET checkpoint_at = GREATEST(p_at, started_at),
                (\(usageColumnList)) = (\(usageArguments))
            WHERE id = p_reservation AND request_id = p_request AND completion_tokens <= p_completion;
            IF FOUND THEN RETURN 1; END IF;
            IF EXISTS (SELECT 1 FROM reservations WHERE id = p_reservation AND request_id = p_request) THEN RETURN 0; END IF;
            RETURN -1;
        END $$
        """,
        // A settle: the request's record (the existing one, `already` true, on a repeat) or SQLSTATE TM001 when the
        // reservation is not open. Writes the record and releases the reservation in the caller's transaction.
        """
        CREATE FUNCTION tokenmeter_settle(p_reservation bigint, p_request text, p_ended_at bigint, p_status text,
                                          \(usageParameters))
        RETURNS TABLE (already boolean, \(recordColumnDefinitions))
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        DECLARE
            r reservations%ROWTYPE;
        BEGIN
            SELECT * INTO r FROM reservations WHERE id = p_reservation AND request_id = p_request;
            IF FOUND THEN
                PERFORM 1 FROM user_holds WHERE user_id = r.user_id FOR UPDATE;
            END IF;
            RETURN QUERY SELECT true, \(recordColumnsOfU) FROM usage_records u WHERE u.request_id = p_request;
            IF FOUND THEN RETURN; END IF;
            SELECT * INTO r FROM reservations WHERE id = p_reservation AND request_id = p_request;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'no open reservation for request %', p_request USING ERRCODE = 'TM001';
            END IF;
            INSERT INTO usage_records (request_id, user_id, api_key_id, model, upstream, started_at, ended_at, status,
                                       overrun_pusd, \(usageColumnList))
            VALUES (r.request_id, r.user_id, r.api_key_id, r.model, r.upstream, r.started_at,
                    GREATEST(p_ended_at, r.started_at), p_status, GREATEST(0, p_cost - r.held_pusd), \(usageArguments));
            DELETE FROM reservations WHERE id = r.id;
            RETURN QUERY SELECT false, \(recordColumnsOfU) FROM usage_records u WHERE u.request_id = p_request;
        END $$
        """,
        // Settles every reservation of the instances whose last heartbeat is older than `p_expiry_ms` (by the
        // database's clock) as `interrupted` from its last checkpoint, and removes those instances. Instances being
        // expired by another transaction are skipped, the users' hold rows are locked in id order (no deadlock with
        // one-user transactions), and a request that already has a record is only released: nothing is settled twice.
        """
        CREATE FUNCTION tokenmeter_expire_instances(p_self bigint, p_expiry_ms bigint)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            dead bigint[];
            settled bigint;
        BEGIN
            SELECT array_agg(id) INTO dead FROM (
                SELECT id FROM instances
                WHERE heartbeat_at < \(nowMilliseconds) - p_expiry_ms AND id IS DISTINCT FROM p_self
                FOR UPDATE SKIP LOCKED) expired;
            IF dead IS NULL THEN RETURN 0; END IF;
            PERFORM 1 FROM user_holds
            WHERE user_id IN (SELECT user_id FROM reservations WHERE instance_id = ANY (dead))
            ORDER BY user_id FOR UPDATE;
            INSERT INTO usage_records (request_id, user_id, api_key_id, model, upstream, started_at, ended_at, status,
                                       overrun_pusd, \(usageColumnList))
            SELECT request_id, user_id, api_key_id, model, upstream, started_at, COALESCE(checkpoint_at, started_at),
                   'interrupted', GREATEST(0, cost_pusd - held_pusd), \(usageColumnList)
            FROM reservations r
            WHERE instance_id = ANY (dead)
              AND NOT EXISTS (SELECT 1 FROM usage_records u WHERE u.request_id = r.request_id)
            ORDER BY id;
            GET DIAGNOSTICS settled = ROW_COUNT;
            DELETE FROM reservations WHERE instance_id = ANY (dead);
            DELETE FROM instances WHERE id = ANY (dead);
            RETURN settled;
        END $$
        """,
    ]
}
