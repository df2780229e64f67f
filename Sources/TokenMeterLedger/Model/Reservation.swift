import Foundation
import TokenMeterMoney

/// Money and tokens held for a request in flight, from `reserve` until `settle`.
///
/// While open, a reservation counts against the user's month as the larger of what it holds and what
/// its last checkpoint reported, so concurrent requests cannot spend the same money.
public struct Reservation: Sendable, Hashable {
    /// The ledger's identifier for the reservation.
    public var id: Int64
    /// The caller's request id; the settled usage record carries it and is unique on it.
    public var requestID: String
    /// The user billed.
    public var userID: Int64
    /// The API key the request came with.
    public var apiKeyID: Int64
    /// Model name as requested.
    public var model: String
    /// Name of the upstream the request is routed to.
    public var upstream: String
    /// When the reservation was made (UTC, millisecond resolution).
    public var startedAt: Date
    /// What is held: the most this request may cost and use.
    public var held: UsageEstimate

    /// A reservation value as stored in the ledger.
    public init(id: Int64, requestID: String, userID: Int64, apiKeyID: Int64, model: String, upstream: String,
                startedAt: Date, held: UsageEstimate) {
        self.id = id
        self.requestID = requestID
        self.userID = userID
        self.apiKeyID = apiKeyID
        self.model = model
        self.upstream = upstream
        self.startedAt = startedAt
        self.held = held
    }
}
