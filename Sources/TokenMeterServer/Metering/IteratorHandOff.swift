import Synchronization
import TokenMeterClient

/// Carries a `ChatStream`'s one iterator from the route handler (which reads the first event, so an
/// upstream failure before the first byte still becomes an HTTP status) into the response body writer
/// (which reads the rest).
///
/// Why `@unchecked Sendable` is sound: the iterator is used by exactly one task at a time, in sequence.
/// The handler creates the box, calls `next()` once, then returns the `Response` whose body closure captures
/// the box, and never touches the box again. Hummingbird runs the body closure only after the handler has
/// returned that response, so the handler's last access happens-before the writer's first one, and the
/// writer is the only user from then on. The stored iterator is only reachable through `next()`.
final class IteratorHandOff: @unchecked Sendable {
    private var iterator: ChatStream.Iterator?

    /// Takes ownership of `stream`'s iterator.
    init(_ stream: ChatStream) {
        iterator = stream.makeAsyncIterator()
    }

    /// The next upstream event; nil at the end of the stream.
    func next() async throws(ChatClientError) -> ChatEvent? {
        guard var it = iterator else { return nil }
        defer { iterator = it }
        return try await it.next()
    }

    /// Whether `next()` would return without waiting (true once the iterator is gone).
    var hasBufferedResult: Bool { iterator?.hasBufferedResult ?? true }

    /// Drops the iterator, which aborts the transfer and closes the upstream connection.
    func close() { iterator = nil }
}
