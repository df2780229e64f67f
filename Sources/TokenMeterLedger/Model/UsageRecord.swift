import Foundation
import TokenMeterMoney

/// One settled request: the ledger's unit of account. Records are append-only.
public struct UsageRecord: Sendable, Hashable {
    /// The ledger's identifier for the record.
    public var id: Int64
    /// The caller's request id (unique across all records).
    public var requestID: String
    /// The user billed.
    public var userID: Int64
    /// The API key used.
    public var apiKeyID: Int64
    /// Model name as requested.
    public var model: String
    /// Name of the upstream that served it.
    public var upstream: String
    /// When the request was reserved (UTC, millisecond resolution).
    public var startedAt: Date
    /// When it was settled (UTC, millisecond resolution); the record counts in this month.
    public var endedAt: Date
    /// Tokens counted and billed, and the cost.
    public var usage: MeteredUsage
    /// How the request ended.
    public var status: UsageStatus
    /// What the bill came to above the request's hold (the provider counted more prompt tokens than the
    /// gateway, say); counted in the user's spend like the rest, and shown apart in reports.
    public var overrun: Money

    /// A record value as stored in the ledger.
    public init(id: Int64, requestID: String, userID: Int64, apiKeyID: Int64, model: String, upstream: String,
                startedAt: Date, endedAt: Date, usage: MeteredUsage, status: UsageStatus, overrun: Money = .zero) {
        self.id = id
        self.requestID = requestID
        self.userID = userID
        self.apiKeyID = apiKeyID
        self.model = model
        self.upstream = upstream
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.usage = usage
        self.status = status
        self.overrun = overrun
    }
}
