import Foundation
import TokenMeterJSON
import NIOCore
import NIOHTTP1

/// Serves scripted chat responses on one connection and records what happens. Runs on the
/// connection's event loop only.
final class UpstreamHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let book: RecordBook
    private let connectionID: Int
    private var head: HTTPRequestHead?
    private var body = Data()
    /// The response being written: its record id, remaining steps, and the pending timer.
    private var recordID: Int?
    private var script: ResponseScript?
    /// A step taken from the script but not yet done (waiting for the socket to drain).
    private var heldStep: ResponseScript.Step?
    private var timer: Scheduled<Void>?
    private var keepAlive = true
    /// A chunk is waiting for the socket to drain (the client is reading slowly or paused).
    private var waitingForWritability = false

    init(book: RecordBook) {
        self.book = book
        self.connectionID = book.newConnection()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = Data()
        case .body(var buffer):
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else { return }
            startResponse(context: context, head: head)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if let recordID {
            let now = ContinuousClock.now
            book.update(recordID) { $0.clientWentAwayAt = now }
        }
        recordID = nil
        context.fireChannelInactive()
    }

    /// Honours TCP backpressure like a real server: chunks wait while the client does not read.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, waitingForWritability {
            waitingForWritability = false
            runSteps(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func startResponse(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let json = try? JSONParser.parse(body)
        let model = json?["model"]?.stringValue
        let record = RequestRecord(
            id: 0, connectionID: connectionID, path: head.uri, headers: head.headers.map { ($0.name, $0.value) },
            body: body, model: model, receivedAt: .now)
        let (id, scenario) = book.begin(record)
        keepAlive = head.isKeepAlive
        let format: ResponseScript.Format
        if head.uri.hasSuffix("/chat/completions") {
            format = .openAI
        } else if head.uri.hasSuffix("/api/chat") {
            format = .ollama
        } else if head.uri.hasSuffix("/responses") {
            format = .responses
        } else if head.uri.hasSuffix("/v1/messages") {
            format = .anthropic
        } else {
            recordID = id
            script = nil
            heldStep = nil
            for step: ResponseScript.Step in [.head(status: 404, contentType: "application/json"), .chunk(#"{"error":"not found"}"#), .end] {
                perform(step, context: context)
            }
            return
        }
        let streaming = json?["stream"]?.boolValue ?? (format == .ollama)
        let includeUsage = json?["stream_options"]?["include_usage"]?.boolValue ?? false
        recordID = id
        script = ResponseScript(
            scenario: scenario.answering(json, format: format), format: format, streaming: streaming,
            includeUsage: includeUsage, model: model ?? "test-model")
        heldStep = nil
        runSteps(context: context)
    }

    /// Performs steps until one needs to wait.
    private func runSteps(context: ChannelHandlerContext) {
        while let step = heldStep ?? script?.next() {
            heldStep = nil
            guard context.channel.isActive, recordID != nil else { return }
            switch step {
            case .pause(let duration):
                timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(duration)) {
                    self.timer = nil
                    self.runSteps(context: context)
                }
                return
            case .chunk where !context.channel.isWritable:
                heldStep = step
                waitingForWritability = true
                return
            case .stall:
                return
            default:
                perform(step, context: context)
            }
        }
    }

    /// Writes one head, chunk, end or close.
    private func perform(_ step: ResponseScript.Step, context: ChannelHandlerContext) {
        guard let recordID else { return }
        switch step {
        case .head(let status, let contentType):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        case .chunk(let text):
            let buffer = context.channel.allocator.buffer(string: text)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let now = ContinuousClock.now
            book.update(recordID) { $0.chunkWriteTimes.append(now) }
        case .end:
            book.update(recordID) { $0.completed = true }
            self.recordID = nil
            script = nil
            let close = !keepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if close { context.close(promise: nil) }
            }
        case .close:
            self.recordID = nil
            script = nil
            context.close(promise: nil)
        case .reset:
            self.recordID = nil
            script = nil
            // SO_LINGER with a zero timeout makes close() send RST and drop unsent data. The option is set on
            // this event loop, so it is in place before the close below runs.
            if let socket = context.channel as? any SocketOptionProvider {
                _ = socket.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            }
            context.close(promise: nil)
        case .pause, .stall:
            preconditionFailure("pauses and stalls are handled by runSteps")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
