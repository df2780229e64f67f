/// How a request ended. Stored as the raw value in `usage_records.status`.
public enum UsageStatus: String, Sendable, Hashable, CaseIterable {
    /// The upstream finished the response normally.
    case completed
    /// TokenMeter ended the stream because the next delta would have crossed the budget or the request cap.
    case cutByBudget = "cut_by_budget"
    /// The client went away; the record holds what was delivered before.
    case clientCancelled = "client_cancelled"
    /// The upstream failed before or during the response.
    case upstreamError = "upstream_error"
    /// The process stopped (crash, kill -9) with the request open; settled at the next open from the last
    /// checkpoint.
    case interrupted
}

/// Which token count a record was billed by. Stored as the raw value in `billed_by`.
public enum BilledCount: String, Sendable, Hashable, CaseIterable {
    /// The counts the upstream reported (OpenAI `usage`, Ollama's `prompt_eval_count`/`eval_count`).
    case provider
    /// TokenMeter's own count (the provider reported nothing).
    case local
}
