import NIOCore

/// Lets a connection's reads grow to 256 KiB (NIO's default stops at 64 KiB), then leaves the pipeline.
///
/// A request body is handed to the route through a stream that stops reading the socket once ten reads are
/// waiting. Reads grow from 2 KiB by doubling, so at 64 KiB ten reads hold about 380 KB: a re-sent conversation
/// of 500 KB paused there until the route had taken most of it, and every pause is a round trip between the
/// event loop and the route's task. With reads of up to 256 KiB, such a body arrives in nine reads without a
/// pause. Reads shrink again when they stop filling the buffer, and an idle connection holds no buffer.
final class ReceiveBufferSizing: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    static let maximumRead = 256 << 10

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(
            ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maximumRead))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
