import Hummingbird
import NIOCore
import TokenMeterLedger

/// The request context of the gateway's routes: Hummingbird's basic context plus what the gateway's
/// middleware and routes share about one request.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client connection this request came on (the chat route learns from it when the client goes away,
    /// ``ConnectionCloseSignals``).
    let channel: any Channel
    /// This request's id: the `x-request-id` answer header, the ledger record's request id and the logs'
    /// `request_id` (``RequestIDMiddleware``).
    let requestID: String
    /// The caller's key, set by ``APIKeyMiddleware`` on the `/v1` routes.
    var apiKey: AuthenticatedKey?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        requestID = RequestIDMiddleware.newRequestID()
        logger[metadataKey: "request_id"] = .string(requestID)
    }

    /// The authenticated key; 401 on a route that is not behind ``APIKeyMiddleware``.
    func requireAPIKey() throws(GatewayError) -> AuthenticatedKey {
        guard let apiKey else { throw .invalidAPIKey() }
        return apiKey
    }
}
