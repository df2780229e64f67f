import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head (request line and header fields) is not complete within
/// `timeout` of its first byte.
///
/// Hummingbird's idle timeout measures time since the last whole request part, so a client that sends half a
/// head and then one byte every few seconds (slowloris) holds its connection, and a file descriptor, for the
/// whole idle timeout or longer. This deadline runs from the first byte of a head to its end, however the bytes
/// trickle in. It never runs while a request body is read or a response is written, so it cannot cut a long
/// stream. Placed after the HTTP decoder (`additionalChannelHandlers`); the decoder's limits (80 KiB of header
/// fields) bound the head's size, this bounds its time.
final class RequestHeadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart

    private let timeout: TimeAmount
    private let logger: Logger
    private var state = StateMachine()
    private var timer: Scheduled<Void>?

    /// A handler for one connection; `timeout` is the longest a request head may take from its first byte.
    init(timeout: Duration, logger: Logger) {
        self.timeout = TimeAmount(timeout)
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        var isHead = false, isEnd = false
        switch part {
        case .head: isHead = true
        case .body: break
        case .end: isEnd = true
        }
        perform(state.partRead(isHead: isHead, isEnd: isEnd), context: context)
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        perform(state.readComplete(), context: context)
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { state.responseEnded() }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    private func perform(_ action: StateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .cancelTimer:
            cancelTimer()
        case .startTimer:
            // Runs on the channel's event loop, like every other call into this handler.
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                handler.timer = nil
                guard handler.state.timerFired() else { return }
                handler.logger.debug("closing a connection whose request head was not complete in time",
                                     metadata: ["timeout_ms": "\(handler.timeout.nanoseconds / 1_000_000)"])
                context.close(promise: nil)
            }
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}

@available(*, unavailable)
extension RequestHeadTimeoutHandler: Sendable {}
