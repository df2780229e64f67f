import NIOCore

/// Calls `onClose` the moment the client of a request goes away, from before the upstream's first event
/// until the response ends.
///
/// The route handler (which waits for the upstream's first event, so a failure there still becomes an HTTP
/// status) and the response body writer are two scopes; the watch spans both: the handler starts it, and
/// whichever scope finishes the request ends it. It observes the connection's ``ConnectionCloseSignal``
/// (raised by the pipeline's ``ConnectionCloseHandler``) and reads nothing from the connection, so the
/// connection is kept alive for the client's next request.
final class ClientDisconnectWatch: Sendable {
    private let signal: ConnectionCloseSignal?
    private let token: Int?

    /// Starts watching `signal`'s connection (none: nothing to watch, as for a connection served without the
    /// handler). `onClose` runs at once if the client has already gone.
    init(_ signal: ConnectionCloseSignal?, onClose: @escaping @Sendable () -> Void) {
        self.signal = signal
        token = signal?.observe(onClose)
    }

    /// Whether the client went away while it was watched (or before).
    var clientClosed: Bool { signal?.isClosed ?? false }

    /// Stops watching.
    func end() {
        if let signal, let token { signal.remove(token) }
    }
}
