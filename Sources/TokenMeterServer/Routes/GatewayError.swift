import Foundation
import Hummingbird
import TokenMeterClient
import TokenMeterLedger
import TokenMeterJSON

/// An error answered in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with its HTTP
/// status. Every refusal of the gateway is one of these, so the official SDKs raise their usual exceptions
/// (401 AuthenticationError, 429 RateLimitError, ...).
public struct GatewayError: Error, HTTPResponseError, Sendable, Equatable {
    /// The HTTP status (400–599).
    public var status: HTTPResponse.Status
    /// A message a user can act on. Never contains a prompt or an upstream key.
    public var message: String
    /// OpenAI's error `type`, e.g. `invalid_request_error`, `insufficient_quota`, `server_error`.
    public var type: String
    /// The offending request field, if any.
    public var param: String?
    /// OpenAI's error `code`, e.g. `invalid_api_key`, `context_length_exceeded`.
    public var code: String?

    /// Makes an error.
    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// The JSON object of the `error` member.
    var errorObject: JSONValue {
        [
            "message": .string(message), "type": .string(type),
            "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null,
        ]
    }

    /// The whole body, `{"error": {...}}`, as compact UTF-8 JSON.
    public var body: Data { Data(JSONValue.object(["error": errorObject]).encoded()) }

    /// The error in Anthropic's shape, `{"type": "error", "error": {"type", "message"}}` (the type from the HTTP
    /// status, TokenMeter's code kept as `code`), as compact UTF-8 JSON.
    var anthropicBody: Data {
        var error: JSONObject = ["type": .string(MessageAssembler.errorType(self)), "message": .string(message)]
        if let code { error["code"] = .string(code) }
        return Data(JSONValue.object(["type": "error", "error": .object(error)]).encoded())
    }

    /// Answers in Anthropic's error shape on `/v1/messages` (its SDKs read it there), in OpenAI's elsewhere.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let anthropic = request.uri.path.hasPrefix("/v1/messages")
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: anthropic ? anthropicBody : body)))
    }
}

extension GatewayError {
    /// 401 for a missing or unknown key.
    static func invalidAPIKey(_ message: String = "Incorrect API key provided. Pass a TokenMeter key (tm_…) as `Authorization: Bearer <key>` or `x-api-key: <key>`.") -> GatewayError {
        GatewayError(.unauthorized, message, code: "invalid_api_key")
    }

    /// 400 for a malformed or invalid request body.
    static func badRequest(_ message: String, param: String? = nil, code: String? = nil) -> GatewayError {
        GatewayError(.badRequest, message, param: param, code: code)
    }

    /// 429 when the budget cannot pay for the request.
    static func insufficientQuota(_ message: String) -> GatewayError {
        GatewayError(.tooManyRequests, message, type: "insufficient_quota", code: "insufficient_quota")
    }

    /// 429 when the key already has `limit` chat requests in flight.
    static func tooManyConcurrentRequests(limit: Int) -> GatewayError {
        GatewayError(.tooManyRequests, "Rate limit reached: this API key already has \(limit) requests in flight, "
            + "the most this server allows. Retry when one has finished.", type: "requests", code: "rate_limit_exceeded")
    }

    /// 413 when the body is larger than the configured limit (bytes).
    static func bodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(.contentTooLarge, "The request body is larger than this server's limit of \(limit) bytes.",
                     code: "request_too_large")
    }

    /// Maps a ledger refusal or failure.
    static func from(_ error: LedgerError) -> GatewayError {
        switch error {
        case .invalidAPIKey:
            return .invalidAPIKey()
        case .apiKeyRevoked(let prefix):
            return .invalidAPIKey("The API key tm_\(prefix)_… has been revoked.")
        case .userDisabled(let name):
            return GatewayError(.unauthorized, "The account '\(name)' is disabled.", code: "account_deactivated")
        case .budgetExhausted, .requestCapExceeded:
            return .insufficientQuota("You exceeded your current quota: \(error)")
        case .userNotFound, .userIDNotFound, .apiKeyNotFound:
            return GatewayError(.notFound, "\(error)", code: "not_found")
        case .userExists, .duplicateRequestID:
            return GatewayError(.conflict, "\(error)", code: "conflict")
        case .invalidUserName, .invalidBudget, .invalidUsage, .apiKeyNotOwned:
            return .badRequest("\(error)")
        case .databaseBusy:
            return GatewayError(.serviceUnavailable, "The usage ledger is busy; retry.", type: "server_error", code: "ledger_busy")
        case .databaseUnavailable:
            return GatewayError(.serviceUnavailable, "The usage ledger is unreachable; retry.", type: "server_error",
                                code: "ledger_unavailable")
        case .reservationNotOpen, .databaseNotFound, .cannotCreateDatabase, .cannotOpenDatabase, .databaseInUse, .storage:
            return GatewayError(.internalServerError, "The usage ledger failed.", type: "server_error", code: "ledger_error")
        }
    }

    /// Maps an upstream failure that happened before anything was sent to the client. The upstream's own
    /// 401/403 (TokenMeter's upstream key) becomes 502 so it is never mistaken for the caller's key.
    static func from(_ error: ChatClientError) -> GatewayError {
        switch error {
        case .httpStatus(let code, let provider, _):
            if code == 401 || code == 403 {
                return GatewayError(.badGateway, "The upstream refused TokenMeter's credentials (HTTP \(code)).",
                                    type: "server_error", code: "upstream_auth_failed")
            }
            let status = HTTPResponse.Status(code: (400...599).contains(code) ? code : 502)
            return GatewayError(status, provider?.message ?? "The upstream answered HTTP \(code).",
                                type: provider?.type ?? (code < 500 ? "invalid_request_error" : "server_error"),
                                param: provider?.param, code: provider?.code)
        case .timeout:
            return GatewayError(.gatewayTimeout, "Upstream: \(error)", type: "server_error", code: "upstream_timeout")
        case .invalidRequest(let reason):
            return .badRequest(reason)
        case .providerError(let provider):
            return GatewayError(.badGateway, provider.message, type: provider.type ?? "server_error", code: provider.code)
        case .connectFailed, .tls, .malformedStream, .connectionLost, .transport, .clientShutdown, .cancelled:
            return GatewayError(.badGateway, "Upstream: \(error)", type: "server_error", code: "upstream_error")
        }
    }
}
