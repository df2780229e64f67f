import Foundation
import Hummingbird
import TokenMeterClient
import TokenMeterLedger
import TokenMeterJSON

extension Gateway {
    /// The `/admin/` routes, the same operations as `tokenmeter users|keys`, behind ``AdminKeyMiddleware``
    /// (`Authorization: Bearer <admin key>`; 404 without a configured admin key).
    ///
    /// - `GET /admin/users`, `POST /admin/users` `{"name", "monthly_usd"?, "monthly_tokens"?, "max_request_usd"?}`
    /// - `GET /admin/users/:name` (user, budget and what is left this month)
    /// - `PATCH /admin/users/:name/budget` `{"monthly_usd"?, "monthly_tokens"?, "max_request_usd"?}` (`"none"` clears)
    /// - `POST /admin/users/:name/disable`, `POST /admin/users/:name/enable`
    /// - `POST /admin/users/:name/keys` (answers the new key once), `GET /admin/keys?user=NAME`
    /// - `DELETE /admin/keys/:prefix` (revoke)
    func adminRoutes() -> RouteCollection<GatewayRequestContext> {
        let admin = RouteCollection(context: GatewayRequestContext.self)
        admin.get("reports/monthly") { request, _ in try await monthlyReport(request) }
        admin.get("users") { request, _ in
            try await adminCall(request) { _ in
                var views: [JSONValue] = []
                for user in try await store.listUsers() { views.append(try await store.view(of: user)) }
                return .array(views)
            }
        }
        admin.post("users") { request, _ in
            try await adminCall(request, status: .created) { body in
                guard let name = body["name"]?.stringValue else { throw GatewayError.badRequest("Missing 'name'.", param: "name") }
                let patch = try Self.budgetPatch(body)
                let user = try await store.addUser(name: name, budget: patch.applied(to: .unlimited))
                return try await store.view(of: user)
            }
        }
        admin.get("users/:name") { request, context in
            let name = try context.parameters.require("name")
            return try await adminCall(request) { _ in try await store.view(of: try await store.user(named: name)) }
        }
        admin.patch("users/:name/budget") { request, context in
            let name = try context.parameters.require("name")
            return try await adminCall(request) { body in
                let user = try await store.user(named: name)
                _ = try await store.updateBudget(userID: user.id, try Self.budgetPatch(body))
                return try await store.view(of: user)
            }
        }
        for (action, status) in [("disable", UserStatus.disabled), ("enable", UserStatus.active)] {
            admin.post("users/:name/\(action)") { request, context in
                let name = try context.parameters.require("name")
                return try await adminCall(request) { _ in
                    try await store.view(of: try await store.setStatus(userID: try await store.user(named: name).id, status))
                }
            }
        }
        admin.post("users/:name/keys") { request, context in
            let name = try context.parameters.require("name")
            return try await adminCall(request, status: .created) { _ in
                let issued = try await store.createAPIKey(userID: try await store.user(named: name).id)
                return LedgerJSON.key(issued.info, secret: issued.key)
            }
        }
        admin.get("keys") { request, _ in
            try await adminCall(request) { _ in
                let userID = try await request.uri.queryParameters["user"].asyncMap { try await store.user(named: String($0)).id }
                return .array(try await store.listAPIKeys(userID: userID).map { LedgerJSON.key($0) })
            }
        }
        admin.delete("keys/:prefix") { request, context in
            let prefix = try context.parameters.require("prefix")
            return try await adminCall(request) { _ in LedgerJSON.key(try await store.revokeAPIKey(prefix: prefix)) }
        }
        return admin
    }

    /// Parses the JSON body if any, runs `operation`, and maps ledger errors to OpenAI-format bodies.
    private func adminCall(_ request: Request, status: HTTPResponse.Status = .ok,
                           _ operation: (JSONObject) async throws -> JSONValue) async throws -> Response {
        var body: JSONObject = [:]
        let bytes = try await collectBody(request)
        if !bytes.isEmpty {
            guard case .object(let o)? = try? JSONParser.parse(Data(bytes)) else {
                throw GatewayError.badRequest("The request body must be a JSON object.")
            }
            body = o
        }
        do {
            return Self.json(try await operation(body), status: status)
        } catch let error as LedgerError {
            throw GatewayError.from(error)
        }
    }

    static func budgetPatch(_ body: JSONObject) throws -> BudgetPatch {
        func text(_ key: String) throws -> String? {
            switch body[key] {
            case nil: return nil
            case .null?: return "none"
            case .string(let s)?: return s
            case .number(let n)?: return n
            default: throw GatewayError.badRequest("Invalid '\(key)': expected a decimal string, a number or null.", param: key)
            }
        }
        return try BudgetPatch(monthlyUSD: try text("monthly_usd"), monthlyTokens: try text("monthly_tokens"),
                               maxRequestUSD: try text("max_request_usd"))
    }
}

extension Optional {
    /// `map` with an async throwing transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
