/// What `reserve` needs to know about a request.
public struct ReservationRequest: Sendable, Hashable {
    /// The caller's unique request id (e.g. `chatcmpl-…` or a UUID); settle is idempotent on it.
    public var requestID: String
    /// The user billed.
    public var userID: Int64
    /// The API key the request came with (must belong to the user and not be revoked).
    public var apiKeyID: Int64
    /// Model name as requested.
    public var model: String
    /// Name of the upstream the request is routed to.
    public var upstream: String
    /// The most the request may cost and use; refused if it does not fit in the remaining budget.
    public var estimate: UsageEstimate

    /// A reservation request.
    public init(requestID: String, userID: Int64, apiKeyID: Int64, model: String, upstream: String,
                estimate: UsageEstimate) {
        self.requestID = requestID
        self.userID = userID
        self.apiKeyID = apiKeyID
        self.model = model
        self.upstream = upstream
        self.estimate = estimate
    }
}
