import Foundation
import TokenMeterLedger
import TokenMeterMoney

// The CLI's `--json` shapes. Amounts are exact decimal USD strings ("12.50", "0.000002"); a missing limit
// is `null`; dates are ISO 8601 UTC; keys are snake_case.

/// A user, with the budget and, when known, this month's figures.
struct UserJSON: Encodable {
    var id: Int64
    var name: String
    var status: String
    var createdAt: Date
    var budget: BudgetJSON
    var month: MonthJSON?

    init(_ user: User, budget: Budget, status: BudgetStatus? = nil) {
        id = user.id
        name = user.name
        self.status = user.status.rawValue
        createdAt = user.createdAt
        self.budget = BudgetJSON(budget)
        month = status.map(MonthJSON.init)
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status, budget, month
        case createdAt = "created_at"
    }
}

/// Limits; `null` means unlimited.
struct BudgetJSON: Encodable {
    var monthlyUSD: String?
    var monthlyTokens: Int64?
    var maxRequestUSD: String?

    init(_ b: Budget) {
        monthlyUSD = b.monthlyLimit?.decimalString
        monthlyTokens = b.monthlyTokenLimit
        maxRequestUSD = b.maxRequestCost?.decimalString
    }

    enum CodingKeys: String, CodingKey { case monthlyUSD = "monthly_usd", monthlyTokens = "monthly_tokens", maxRequestUSD = "max_request_usd" }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(monthlyUSD, forKey: .monthlyUSD)
        try c.encode(monthlyTokens, forKey: .monthlyTokens)
        try c.encode(maxRequestUSD, forKey: .maxRequestUSD)
    }
}

/// One month's spend against the budget.
struct MonthJSON: Encodable {
    var period: String
    var settledUSD: String
    var heldUSD: String
    var spentUSD: String
    var remainingUSD: String?
    var settledTokens: Int64
    var heldTokens: Int64
    var remainingTokens: Int64?
    var requests: Int64
    var liveReservations: Int64

    init(_ s: BudgetStatus) {
        period = s.period.description
        settledUSD = s.settledCost.decimalString
        heldUSD = s.heldCost.decimalString
        spentUSD = s.committedCost.decimalString
        remainingUSD = s.remainingCost?.decimalString
        settledTokens = s.settledTokens
        heldTokens = s.heldTokens
        remainingTokens = s.remainingTokens
        requests = s.settledRequests
        liveReservations = s.liveReservations
    }

    enum CodingKeys: String, CodingKey {
        case period, requests
        case settledUSD = "settled_usd", heldUSD = "held_usd", spentUSD = "spent_usd", remainingUSD = "remaining_usd"
        case settledTokens = "settled_tokens", heldTokens = "held_tokens", remainingTokens = "remaining_tokens"
        case liveReservations = "live_reservations"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(period, forKey: .period)
        try c.encode(settledUSD, forKey: .settledUSD)
        try c.encode(heldUSD, forKey: .heldUSD)
        try c.encode(spentUSD, forKey: .spentUSD)
        try c.encode(remainingUSD, forKey: .remainingUSD)
        try c.encode(settledTokens, forKey: .settledTokens)
        try c.encode(heldTokens, forKey: .heldTokens)
        try c.encode(remainingTokens, forKey: .remainingTokens)
        try c.encode(requests, forKey: .requests)
        try c.encode(liveReservations, forKey: .liveReservations)
    }
}

/// An API key: the prefix only, except right after `keys create`, when `key` holds the full secret.
struct KeyJSON: Encodable {
    var id: Int64
    var user: String
    var prefix: String
    var createdAt: Date
    var revokedAt: Date?
    var lastUsedAt: Date?
    var key: String?

    init(_ info: APIKeyInfo, key: String? = nil) {
        id = info.id
        user = info.userName
        prefix = info.prefix
        createdAt = info.createdAt
        revokedAt = info.revokedAt
        lastUsedAt = info.lastUsedAt
        self.key = key
    }

    enum CodingKeys: String, CodingKey {
        case id, user, prefix, key
        case createdAt = "created_at", revokedAt = "revoked_at", lastUsedAt = "last_used_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(user, forKey: .user)
        try c.encode(prefix, forKey: .prefix)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(revokedAt, forKey: .revokedAt)
        try c.encode(lastUsedAt, forKey: .lastUsedAt)
        try c.encodeIfPresent(key, forKey: .key)
    }
}
