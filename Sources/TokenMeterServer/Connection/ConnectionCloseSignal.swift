import NIOCore
import Synchronization

/// Tells the route handlers of one client connection when the client has gone: it closed its sending side
/// (FIN) or the whole connection (reset, or closed after a failed write).
///
/// Why not Hummingbird's `consumeWithCancellationOnInboundClose`: it learns of the close by reading the
/// connection's request-part stream, and a read it then has to cancel when the response is done ends that
/// stream for good, so Hummingbird closes the connection after every streamed response. Clients (the
/// OpenAI SDKs, curl) reuse connections; each request then paid a new TCP connection and, for clients that
/// try the dead one first, a failed attempt. The signal is fed by ``ConnectionCloseHandler`` in the channel
/// pipeline instead, which sees the same events without reading anything, so the connection stays usable.
final class ConnectionCloseSignal: Sendable {
    private struct State {
        var closed = false
        var nextID = 0
        var observers: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// Whether the client has gone.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Calls `observer` once when the client goes (at once if it has gone already); returns a token for
    /// ``remove(_:)``, or nil when the observer already ran.
    func observe(_ observer: @escaping @Sendable () -> Void) -> Int? {
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            state.nextID += 1
            state.observers[state.nextID] = observer
            return state.nextID
        }
        if id == nil { observer() }
        return id
    }

    /// Stops observing (a no-op once the observer ran).
    func remove(_ id: Int) {
        _ = state.withLock { $0.observers.removeValue(forKey: id) }
    }

    /// The client has gone: runs every observer once, outside the lock.
    func close() {
        let observers: [@Sendable () -> Void] = state.withLock { state in
            guard !state.closed else { return [] }
            state.closed = true
            defer { state.observers.removeAll() }
            return Array(state.observers.values)
        }
        for observer in observers { observer() }
    }
}

/// The signals of the open connections, found by their channel (a route handler has its request context's
/// channel, not the pipeline's handlers, and asking the pipeline would hop to the event loop per request).
final class ConnectionCloseSignals: Sendable {
    private let signals = Mutex<[ObjectIdentifier: ConnectionCloseSignal]>([:])

    /// The signal of `channel`'s connection; nil if it has none (not served through ``ConnectionCloseHandler``).
    func signal(of channel: any Channel) -> ConnectionCloseSignal? {
        signals.withLock { $0[ObjectIdentifier(channel)] }
    }

    func register(_ signal: ConnectionCloseSignal, for channel: any Channel) {
        signals.withLock { $0[ObjectIdentifier(channel)] = signal }
    }

    func unregister(_ channel: any Channel) {
        _ = signals.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Connections registered now (for tests).
    var count: Int { signals.withLock { $0.count } }
}

/// Placed in each HTTP/1 connection's pipeline (after the HTTP decoder): passes everything through and
/// raises the connection's ``ConnectionCloseSignal`` when the client half-closes (`inputClosed`; Hummingbird
/// allows remote half-closure) or the channel goes inactive.
final class ConnectionCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let signals: ConnectionCloseSignals
    private let signal = ConnectionCloseSignal()

    init(signals: ConnectionCloseSignals) {
        self.signals = signals
    }

    func handlerAdded(context: ChannelHandlerContext) {
        signals.register(signal, for: context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        signals.unregister(context.channel)
        signal.close()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent { signal.close() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        signal.close()
        signals.unregister(context.channel)
        context.fireChannelInactive()
    }
}
