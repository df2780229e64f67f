import Hummingbird
import NIOCore

/// The request context of the gateway's routes: Hummingbird's basic context plus the connection's channel,
/// which the chat route needs to learn when the client goes away (``ConnectionCloseSignals``).
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client connection this request came on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
