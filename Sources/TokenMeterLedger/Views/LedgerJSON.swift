import Foundation
import TokenMeterJSON
import TokenMeterMoney

/// The one JSON view of users, keys and budgets: `tokenmeter users|keys … --json` and the admin API
/// answer with these, field for field (docs/CLI.md, "JSON views of users, keys and budgets"). Money is an exact decimal USD string
/// (`"12.50"`), a missing limit is `null`, times are ISO 8601 UTC, keys are snake_case in a fixed order.
public enum LedgerJSON {
    /// A user: `id`, `name`, `status`, `created_at`, its `budget` limits and `this_month` (``month(_:)``).
    public static func user(_ user: User, status: BudgetStatus) -> JSONValue {
        [
            "id": .int(user.id), "name": .string(user.name), "status": .string(user.status.rawValue),
            "created_at": time(user.createdAt), "budget": budget(status.budget), "this_month": month(status),
        ]
    }

    /// Budget limits: `monthly_usd`, `monthly_tokens`, `max_request_usd`; `null` is no limit. The same names
    /// as the fields that set them (`users add`, `POST /admin/users`, `PATCH …/budget`).
    public static func budget(_ budget: Budget) -> JSONValue {
        [
            "monthly_usd": usd(budget.monthlyLimit), "monthly_tokens": budget.monthlyTokenLimit.map { .int($0) } ?? .null,
            "max_request_usd": usd(budget.maxRequestCost),
        ]
    }

    /// This month against the budget: settled and held amounts, what remains (`null` without a limit), the
    /// settled requests and the ones running now. `estimated_usd` is the part of `settled_usd` billed for
    /// estimated tokens (hidden reasoning of streams that ended without the provider's usage).
    public static func month(_ status: BudgetStatus) -> JSONValue {
        [
            "period": .string(status.period.description),
            "settled_usd": .string(status.settledCost.decimalString),
            "estimated_usd": .string(status.settledEstimatedCost.decimalString),
            "held_usd": .string(status.heldCost.decimalString),
            "remaining_usd": usd(status.remainingCost),
            "settled_tokens": .int(status.settledTokens), "held_tokens": .int(status.heldTokens),
            "remaining_tokens": status.remainingTokens.map { .int($0) } ?? .null,
            "requests": .int(status.settledRequests), "live_requests": .int(status.liveReservations),
        ]
    }

    /// An API key: its `prefix` (what `keys revoke` and `DELETE /admin/keys/:prefix` take), never the secret,
    /// except right after it was issued, when `key` holds it (the only copy).
    public static func key(_ info: APIKeyInfo, secret: String? = nil) -> JSONValue {
        var object: JSONObject = [
            "id": .int(info.id), "user": .string(info.userName), "prefix": .string(info.prefix),
            "created_at": time(info.createdAt), "revoked_at": info.revokedAt.map(time) ?? .null,
            "last_used_at": info.lastUsedAt.map(time) ?? .null,
        ]
        if let secret { object["key"] = .string(secret) }
        return .object(object)
    }

    private static func usd(_ money: Money?) -> JSONValue { money.map { .string($0.decimalString) } ?? .null }

    private static func time(_ date: Date) -> JSONValue { .string(date.ISO8601Format()) }
}

extension UsageStore {
    /// ``LedgerJSON/user(_:status:)`` of `user`, with this month's figures read now.
    public func view(of user: User) async throws -> JSONValue {
        LedgerJSON.user(user, status: try await remaining(userID: user.id))
    }
}
