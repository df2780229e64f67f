import PostgresNIO

extension PostgresUsageStore {
    /// Checks the books from the records up, in one snapshot, and names every disagreement: the monthly and daily
    /// rollups against the records, `user_holds` against the live reservations, and (when `expectNoReservations`)
    /// that nothing is held. Empty when the books balance. The tests call it after every scenario.
    func auditBooks(expectNoReservations: Bool) async throws -> [String] {
        let checks: [(String, String)] = [
            ("monthly_usage differs from the records", """
                (SELECT user_id, to_char(to_timestamp(ended_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM'), COUNT(*),
                        SUM(billed_tokens), SUM(cost_pusd), SUM(estimated_pusd)
                 FROM usage_records GROUP BY 1, 2)
                EXCEPT ALL
                (SELECT user_id, period, request_count, billed_tokens, cost_pusd, estimated_pusd FROM monthly_usage)
                """),
            ("monthly_usage has rows no record explains", """
                (SELECT user_id, period, request_count, billed_tokens, cost_pusd, estimated_pusd FROM monthly_usage)
                EXCEPT ALL
                (SELECT user_id, to_char(to_timestamp(ended_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM'), COUNT(*),
                        SUM(billed_tokens), SUM(cost_pusd), SUM(estimated_pusd)
                 FROM usage_records GROUP BY 1, 2)
                """),
            ("daily_usage differs from the records", "(\(Self.dailyFromRecords)) EXCEPT ALL (SELECT * FROM daily_usage)"),
            ("daily_usage has rows no record explains", "(SELECT * FROM daily_usage) EXCEPT ALL (\(Self.dailyFromRecords))"),
            ("user_holds differs from the live reservations", """
                (SELECT user_id, COUNT(*), SUM(GREATEST(held_pusd, cost_pusd)), SUM(GREATEST(held_tokens, billed_tokens))
                 FROM reservations GROUP BY user_id)
                EXCEPT ALL
                (SELECT user_id, live, held_pusd, held_tokens FROM user_holds WHERE live > 0)
                """),
            ("user_holds holds money or tokens with no live reservation", """
                SELECT user_id FROM user_holds WHERE live = 0 AND (held_pusd <> 0 OR held_tokens <> 0)
                """),
        ] + (expectNoReservations ? [("reservations are still open", "SELECT id FROM reservations")] : [])
        return try await write(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { c in
            var problems: [String] = []
            for (problem, sql) in checks {
                let rows = try await c.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM (" + sql + ") AS x"), logger: self.logger)
                for try await n in rows.decode(Int64.self) where n > 0 { problems.append("\(problem) (\(n) rows)") }
            }
            return problems
        }
    }

    /// `daily_usage` recomputed from `usage_records`, in the rollup's column order.
    static let dailyFromRecords = """
        SELECT ended_at / 86400000, user_id, model, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens),
               COUNT(provider_prompt_tokens), COALESCE(SUM(provider_prompt_tokens), 0),
               COALESCE(SUM(provider_completion_tokens), 0), SUM(provider_cached_tokens), SUM(provider_reasoning_tokens),
               SUM(billed_tokens), SUM(cost_pusd), SUM((billed_by = 'provider')::int),
               SUM(CASE billed_by WHEN 'provider' THEN billed_tokens ELSE 0 END),
               SUM(CASE billed_by WHEN 'provider' THEN cost_pusd ELSE 0 END),
               SUM((status = 'completed')::int), SUM((status = 'cut_by_budget')::int),
               SUM((status = 'client_cancelled')::int), SUM((status = 'upstream_error')::int),
               SUM((status = 'interrupted')::int), SUM(estimated_completion_tokens), SUM(estimated_pusd), SUM(overrun_pusd),
               SUM(CASE WHEN provider_prompt_tokens IS NULL THEN 0 ELSE prompt_tokens END),
               SUM(CASE WHEN provider_prompt_tokens IS NULL THEN 0 ELSE completion_tokens END)
        FROM usage_records GROUP BY 1, 2, 3
        """
}
