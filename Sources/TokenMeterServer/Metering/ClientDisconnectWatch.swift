import Hummingbird
import Synchronization

/// Watches a streaming request's connection from before the upstream's first event until the response
/// ends, and calls `onClose` the moment the client closes it.
///
/// Hummingbird's `consumeWithCancellationOnInboundClose` can only watch inside one scope, and the route
/// handler (which waits for the upstream's first event, so a failure there still becomes an HTTP status)
/// and the response body writer are two scopes: a client that left while the upstream was still silent
/// used to be noticed only at the first event or a timeout. The watch spans both: it is started by the
/// handler with the collected request and ended by whichever scope finishes the request. It reads the
/// connection's request-part stream in its own task (nobody else reads it while a response is running);
/// when that stream ends, the client has closed its side, and `onClose` cancels the upstream transfer.
///
/// ``end()`` must be called once the response is finished (or will not be written), before Hummingbird
/// reads the connection again; it returns when the watch has let go of the connection. As with
/// `consumeWithCancellationOnInboundClose`, the connection is closed after such a response.
final class ClientDisconnectWatch: Sendable {
    private let task: Task<Void, Never>
    private let release: AsyncStream<Void>.Continuation
    private let closed: StopFlag

    /// Starts watching the connection `request` arrived on (its body must have been collected with
    /// `Request.collectBody`, which keeps the connection's part stream).
    init(_ request: Request, onClose: @escaping @Sendable () -> Void) {
        let (released, release) = AsyncStream<Void>.makeStream()
        let closed = StopFlag()
        let body = request.body
        self.release = release
        self.closed = closed
        task = Task {
            _ = try? await body.consumeWithInboundCloseHandler { _ in
                for await _ in released {}
            } onInboundClosed: {
                closed.raise()
                onClose()
                release.finish()  // nothing left to watch: let the task end even if end() never comes
            }
        }
    }

    /// Whether the client closed the connection while it was watched.
    var clientClosed: Bool { closed.isRaised }

    /// Stops watching and waits until the watch no longer reads the connection.
    func end() async {
        release.finish()
        await task.value
    }
}
