import Foundation
import Hummingbird
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterJSON

extension Gateway {
    /// The caller's account routes, under `/v1` behind ``APIKeyMiddleware``: `GET /models`, `GET /usage`.
    func accountRoutes() -> RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.get("models") { request, context in try await models(request, context: context) }
        routes.get("usage") { request, context in try await usage(request, context: context) }
        return routes
    }

    /// The operator's routes, without a key: `GET /healthz`, `GET /metrics` (Prometheus text).
    func operationsRoutes() -> RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.get("healthz") { _, _ in try await health() }
        routes.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        return routes
    }

    /// `GET /v1/models`: the catalog's models that a route sends to an upstream able to serve them, in OpenAI's
    /// list shape, each with the `endpoints` it is served on: chat models on both APIs (a Responses request is
    /// translated for an upstream that speaks only chat completions), Responses-only models on `/v1/responses`
    /// when their upstream speaks that API.
    func models(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let data: [JSONValue] = catalog.models.compactMap { model in
            guard let upstream = configuration.upstream(forModel: model.name) else { return nil }
            let endpoints: JSONValue
            switch model.mode {
            case "chat": endpoints = ["/v1/chat/completions", "/v1/responses"]
            case "responses" where upstream.responses == .native: endpoints = ["/v1/responses"]
            default: return nil
            }
            return ["id": .string(model.name), "object": "model", "created": 0, "owned_by": .string(model.provider),
                    "endpoints": endpoints]
        }
        return Self.json(["object": "list", "data": .array(data)])
    }

    /// `GET /v1/usage?month=YYYY-MM` (default: the current UTC month): the caller's own settled usage in
    /// the month, per model, and what is left of the budget this month. Money as exact USD decimal strings
    /// and as integer pico-USD.
    func usage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let key = try context.requireAPIKey()
        let period: BillingPeriod
        if let month = request.uri.queryParameters["month"].map(String.init) {
            guard let p = BillingPeriod(parsing: month) else {
                throw GatewayError.badRequest("Invalid 'month': expected YYYY-MM, got '\(month)'.", param: "month")
            }
            period = p
        } else {
            period = BillingPeriod(containing: Date())
        }
        let summary: UsageSummary, status: BudgetStatus
        do {
            summary = try await store.usage(userID: key.user.id, period: period)
            status = try await store.remaining(userID: key.user.id)
        } catch { throw Self.ledgerFailure(error) }
        let models: [JSONValue] = summary.models.map { m in
            [
                "model": .string(m.model), "requests": .int(m.requests), "prompt_tokens": .int(m.promptTokens),
                "completion_tokens": .int(m.completionTokens), "billed_tokens": .int(m.billedTokens),
                "cost_usd": .string(m.cost.decimalString), "cost_picousd": .int(m.cost.picoUSD),
                "local_count": .string(localCountKind(of: m.model)),
            ]
        }
        return Self.json([
            "object": "usage", "user": .string(key.user.name), "month": .string(period.description),
            "requests": .int(summary.requests), "billed_tokens": .int(summary.billedTokens),
            "cost_usd": .string(summary.cost.decimalString), "cost_picousd": .int(summary.cost.picoUSD),
            "models": .array(models),
            "budget": LedgerJSON.budget(status.budget), "this_month": LedgerJSON.month(status),
        ])
    }

    /// How the gateway counts `model`'s tokens itself, which is what its records' local counts are: `exact` (its
    /// own encoding), `approximate` (a stand-in encoding, raised by the model's margin when it has one: Claude,
    /// local models), or `unknown` (a model the catalog no longer has).
    func localCountKind(of model: String) -> String {
        guard let entry = try? catalog.resolve(model).model else { return "unknown" }
        if case .approximate = entry.encoding { return "approximate" }
        return "exact"
    }

    /// `GET /healthz`: 200 `{"status":"ok"}` when the ledger answers.
    func health() async throws -> Response {
        do { _ = try await store.schemaVersion() } catch {
            throw GatewayError(.serviceUnavailable, "The usage ledger is not answering.", type: "server_error")
        }
        return Self.json(["status": "ok"])
    }

    /// The budget and what is left of it this month.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
    }
}
