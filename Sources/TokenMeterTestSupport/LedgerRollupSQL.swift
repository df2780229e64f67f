/// The ledger's rollups recomputed from the records, for the tests that check a rollup trigger's invariant
/// (the ledger's and the reports' tests): one definition, in the rollup table's column order.
public enum LedgerRollupSQL {
    /// `daily_usage` recomputed from `usage_records` with one GROUP BY (`SELECT * FROM daily_usage ORDER BY
    /// 1, 2, 3` must equal it).
    public static let dailyFromRecords = """
        SELECT ended_at / 86400000 AS day, user_id, model, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens,
               SUM(completion_tokens) AS completion_tokens, COUNT(provider_prompt_tokens) AS provider_requests,
               COALESCE(SUM(provider_prompt_tokens), 0) AS provider_prompt_tokens,
               COALESCE(SUM(provider_completion_tokens), 0) AS provider_completion_tokens,
               SUM(provider_cached_tokens) AS cached_tokens, SUM(provider_reasoning_tokens) AS reasoning_tokens,
               SUM(billed_tokens) AS billed_tokens, SUM(cost_pusd) AS cost_pusd,
               SUM(billed_by = 'provider') AS provider_billed_requests,
               SUM(CASE billed_by WHEN 'provider' THEN billed_tokens ELSE 0 END) AS provider_billed_tokens,
               SUM(CASE billed_by WHEN 'provider' THEN cost_pusd ELSE 0 END) AS provider_billed_pusd,
               SUM(status = 'completed') AS completed, SUM(status = 'cut_by_budget') AS cut_by_budget,
               SUM(status = 'client_cancelled') AS client_cancelled, SUM(status = 'upstream_error') AS upstream_error,
               SUM(status = 'interrupted') AS interrupted,
               SUM(estimated_completion_tokens) AS estimated_completion_tokens, SUM(estimated_pusd) AS estimated_pusd,
               SUM(overrun_pusd) AS overrun_pusd,
               SUM(CASE WHEN provider_prompt_tokens IS NULL THEN 0 ELSE prompt_tokens END) AS drift_local_prompt_tokens,
               SUM(CASE WHEN provider_prompt_tokens IS NULL THEN 0 ELSE completion_tokens END)
                   AS drift_local_completion_tokens
        FROM usage_records GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """
}
