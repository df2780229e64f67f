import Synchronization

/// The events of one streamed chat completion, as they arrive. Exactly one consumer may iterate it.
///
/// The transfer starts when `ChatClient.stream` returns. Cancelling the consuming task, or
/// dropping the iterator (or the stream, if it was never iterated), aborts the transfer and closes
/// its connection. At most about `ChatClient.Configuration.bufferLimitBytes` of events wait for a
/// slow consumer; past that the transfer pauses until the consumer catches up.
///
/// Ends normally (nil) after the provider's end-of-stream marker; otherwise throws a
/// `ChatClientError`.
public struct ChatStream: AsyncSequence, Sendable {
    public typealias Element = ChatEvent
    public typealias Failure = ChatClientError

    private let lifetime: StreamLifetime

    init(buffer: StreamBuffer, loop: CurlEventLoop) {
        self.lifetime = StreamLifetime(buffer: buffer, loop: loop)
    }

    /// Bytes of decoded events currently waiting for the consumer (for tests and metrics).
    public var bufferedBytes: Int { lifetime.buffer.bufferedBytes }
    /// The most bytes of decoded events that ever waited at once.
    public var peakBufferedBytes: Int { lifetime.buffer.peakBufferedBytes }

    /// Stops the stream now: the transfer is aborted and its connection closed. Idempotent.
    public func cancel() { lifetime.buffer.cancel() }

    /// Sends the last byte of a request started with `holdingLastByte` (``ChatClient/stream(_:to:timeouts:holdingLastByte:)``),
    /// completing it. A no-op for other streams and once the stream has ended.
    public func releaseLastByte() { lifetime.buffer.releaseLastByte() }

    /// The one iterator of this stream; a second call is a programming error (precondition).
    public func makeAsyncIterator() -> Iterator {
        lifetime.markIterated()
        return Iterator(token: IteratorToken(buffer: lifetime.buffer, loop: lifetime.loop))
    }

    /// Pulls events one at a time. Dropping it cancels the stream.
    public struct Iterator: AsyncIteratorProtocol {
        private let token: IteratorToken

        fileprivate init(token: IteratorToken) {
            self.token = token
        }

        /// Whether `next()` would return without waiting: an event is already here, or the stream has ended.
        /// A consumer that batches its output (one socket write for several events) flushes when this is false.
        public var hasBufferedResult: Bool { token.buffer.hasResultReady }

        /// The next event; nil after the end of the stream.
        public mutating func next() async throws(ChatClientError) -> ChatEvent? {
            try await token.buffer.next().get()
        }

        /// The next event; nil after the end of the stream.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ChatClientError) -> ChatEvent? {
            try await token.buffer.next().get()
        }
    }
}

/// Cancels the stream when the `ChatStream` value goes away without ever being iterated, and keeps
/// the client's loop alive while a stream exists.
private final class StreamLifetime: Sendable {
    let buffer: StreamBuffer
    let loop: CurlEventLoop
    private let iterated = Mutex(false)

    init(buffer: StreamBuffer, loop: CurlEventLoop) {
        self.buffer = buffer
        self.loop = loop
    }

    func markIterated() {
        let already = iterated.withLock { value in defer { value = true }; return value }
        precondition(!already, "a ChatStream has exactly one consumer; makeAsyncIterator() was called twice")
    }

    deinit {
        if !iterated.withLock({ $0 }) { buffer.cancel() }
    }
}

/// Cancels the stream when the iterator goes away (a `for` loop left by `break`, `return` or a
/// thrown error; an iterator dropped by hand). A no-op when the stream already ended.
private final class IteratorToken {
    let buffer: StreamBuffer
    let loop: CurlEventLoop

    init(buffer: StreamBuffer, loop: CurlEventLoop) {
        self.buffer = buffer
        self.loop = loop
    }

    deinit {
        buffer.cancel()
    }
}
