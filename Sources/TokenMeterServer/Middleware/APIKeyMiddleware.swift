import HTTPTypes
import Hummingbird
import TokenMeterLedger

/// Authenticates `Authorization: Bearer <TokenMeter key>` or `x-api-key: <TokenMeter key>` (as Anthropic's
/// clients send it) on the `/v1` routes and puts the key into the context (401 `invalid_api_key` otherwise), and answers with the caller's remaining budget in headers
/// (``BudgetHeaders``), refusals included, so a client sees what it has left without a second call.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let store: any GatewayLedger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let key = try await authenticate(authorization: request.headers[.authorization], apiKey: request.headers[Self.apiKeyHeader])
        var context = context
        context.apiKey = key
        var response: Response
        var ledgerUnavailable = false
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
            ledgerUnavailable = (error as? GatewayError)?.code == "ledger_unavailable"
        }
        // A route that knows the budget after its own request (the chat route) has set the headers already. After a
        // 503 `ledger_unavailable` the ledger cannot be read either: asking would hold the refusal for another
        // connection wait (`ledger_busy_timeout_ms`), doubling it.
        if response.headers[BudgetHeaders.remainingUSD] == nil, !ledgerUnavailable,
           let status = try? await store.remaining(userID: key.user.id) {
            BudgetHeaders.set(status, on: &response.headers)
        }
        return response
    }

    static let apiKeyHeader = HTTPField.Name("x-api-key")!

    /// Reads `x-api-key: <key>`, else `Authorization: Bearer <key>` (the scheme in any case); spaces and tabs
    /// around the key are ignored.
    func authenticate(authorization: String?, apiKey: String? = nil) async throws(GatewayError) -> AuthenticatedKey {
        var trimmed: Substring
        if let apiKey, !apiKey.isEmpty {
            trimmed = apiKey[...]
        } else if let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " {
            trimmed = authorization.dropFirst(7)
        } else {
            throw .invalidAPIKey("You didn't provide an API key. Send your TokenMeter key as `Authorization: Bearer <key>` "
                + "or `x-api-key: <key>`.")
        }
        // Without the spaces and tabs around it: Unicode Zs and U+0009, the set Foundation's `.whitespaces` is.
        while let c = trimmed.first, c.isWhitespace, !c.isNewline { trimmed.removeFirst() }
        while let c = trimmed.last, c.isWhitespace, !c.isNewline { trimmed.removeLast() }
        do {
            return try await store.authenticate(apiKey: String(trimmed))
        } catch let error as LedgerError {
            throw .from(error)
        } catch {
            throw GatewayError(.internalServerError, "Authentication failed.", type: "server_error")
        }
    }
}

/// The caller's remaining budget this month as answer headers: `x-tokenmeter-remaining-usd` (exact decimal
/// USD) and `x-tokenmeter-remaining-tokens`, each `unlimited` when the budget has no such limit. Held
/// amounts count as spent: during a stream, its own hold is part of them.
enum BudgetHeaders {
    static let remainingUSD = HTTPField.Name("x-tokenmeter-remaining-usd")!
    static let remainingTokens = HTTPField.Name("x-tokenmeter-remaining-tokens")!

    static func set(_ status: BudgetStatus, on headers: inout HTTPFields) {
        headers[remainingUSD] = status.remainingCost.map(\.decimalString) ?? "unlimited"
        headers[remainingTokens] = status.remainingTokens.map(String.init) ?? "unlimited"
    }
}
