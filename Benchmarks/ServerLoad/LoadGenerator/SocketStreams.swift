import CEpoll
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The load generator's default engine: every virtual user on one thread, plain non-blocking sockets and
/// epoll, HTTP/1.1 keep-alive, and a chunked-body and SSE reader that only finds event boundaries and
/// whether an event carries content. Each content event is timestamped when the read that completed it
/// returns, not when some task gets round to it.
///
/// Why not the libcurl client (`--engine client`, still there): it parses every chunk into a `ChatEvent`
/// and hands it from the curl thread to a task. At 500 streams that took about half of one of the
/// machine's two cores, which the gateway then did not have, and each measured gap also held the load
/// generator's own wake-up delay. The direct and gateway phases always run on the same engine.
///
/// A request fails when: the connection cannot be made or breaks before `[DONE]`; the status is not 200;
/// the body is not chunked; a `data:` line holds an `error` object; or the stream ends without content.
struct SocketStreams {
    let address: sockaddr_in
    /// The bytes of request `index` (head and body).
    let request: @Sendable (Int) -> [UInt8]
    let api: Options.API

    /// Where to send `POST <path>/chat/completions` (or `<path>/responses`) for `url`
    /// (`http://<IPv4>:<port>/<path>`), with `body(index)` as the body of request `index`.
    init(url: String, key: String, api: Options.API = .chat, body: @escaping @Sendable (Int) -> String) throws {
        self.api = api
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host, let port = parsed.port else {
            throw EngineError("--url must be http://<IPv4 address>:<port>/<path> for the socket engine: \(url)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw EngineError("the socket engine needs an IPv4 address, not \(host)")
        }
        self.address = address
        let path = (parsed.path.hasSuffix("/") ? String(parsed.path.dropLast()) : parsed.path)
            + (api == .responses ? "/responses" : "/chat/completions")
        request = { index in
            let text = body(index)
            let head = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAuthorization: Bearer \(key)\r\n"
                + "Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: \(text.utf8.count)\r\n\r\n"
            return Array((head + text).utf8)
        }
    }

    struct EngineError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs `concurrency` users in a closed loop until `total` requests have been issued; user i starts
    /// `ramp * i / concurrency` after the first. `issued(index)` is called as request `index` is sent;
    /// `finished(index, sample)` as it ends. Blocks the calling thread until all requests have ended.
    func run(concurrency: Int, total: Int, ramp: Duration,
             issued: (Int) -> Void, finished: (Int, LoadGenerator.Sample) -> Void) {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        defer { close(epoll) }
        let start = Clock.now
        let rampNanos = UInt64(ramp.components.seconds) * 1_000_000_000 + UInt64(ramp.components.attoseconds / 1_000_000_000)
        var users = (0..<concurrency).map {
            User(startAt: start + rampNanos * UInt64($0) / UInt64(max(1, concurrency)), responses: api == .responses)
        }
        var nextIndex = 0, running = 0, waiting = concurrency
        var buffer = [UInt8](repeating: 0, count: 65536)
        var events = [epoll_event](repeating: epoll_event(), count: 256)

        /// Records user u's request as ended (failed if `error`; a failed request's connection is closed).
        func finish(_ u: Int, error: String?) {
            var sample = users[u].sample
            if let error {
                sample.error = error
                users[u].closeSocket()
            } else if sample.tokens == 0 {
                sample.error = "the stream ended without content"
            }
            users[u].inRequest = false
            finished(users[u].index, sample)
        }

        /// Sends user u's next request, connecting first if needed; a request that fails before it is sent
        /// is recorded at once and the next one follows (a loop, not recursion: a dead port fails them all).
        func startNext(_ u: Int) {
            while nextIndex < total {
                let index = nextIndex
                nextIndex += 1
                issued(index)
                users[u].beginRequest(index: index, at: Clock.now)
                var failure: String?
                if users[u].fd < 0 {
                    failure = users[u].connect(to: address, epoll: epoll, slot: u)
                    if failure == nil, users[u].connecting { running += 1; return }  // sent once connected
                }
                if failure == nil { failure = users[u].send(request(index)) }
                if failure == nil { running += 1; return }
                finish(u, error: failure)
            }
            users[u].closeSocket()
        }

        func end(_ u: Int, error: String?) {
            running -= 1
            finish(u, error: error)
            startNext(u)
        }

        while waiting > 0 || running > 0 {
            var timeout: Int32 = 1000
            if waiting > 0 {
                let now = Clock.now
                for u in users.indices where users[u].waiting && users[u].startAt <= now {
                    users[u].waiting = false
                    waiting -= 1
                    startNext(u)
                }
                if let soonest = users.lazy.filter(\.waiting).map(\.startAt).min() {
                    timeout = Int32(min(1000, (soonest - min(soonest, Clock.now) + 999_999) / 1_000_000))
                }
            }
            let count = epoll_wait(epoll, &events, Int32(events.count), timeout)
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed: errno \(errno)")
            }
            for e in events.prefix(Int(count)) {
                let u = Int(e.data.u64 & 0xFFFF_FFFF)
                // An event for a connection this user has since closed (and maybe replaced) in this batch.
                guard users[u].fd >= 0, e.data.u64 == users[u].token else { continue }
                if users[u].connecting {
                    if let error = users[u].finishConnect(epoll: epoll) ?? users[u].send(request(users[u].index)) { end(u, error: error) }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { read(users[u].fd, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                let now = Clock.now
                if n <= 0 {
                    if users[u].inRequest {
                        end(u, error: n == 0 ? "the connection closed before [DONE]" : "read failed: errno \(errno)")
                    } else {
                        users[u].closeSocket()  // the server closed an idle kept-alive connection
                    }
                    continue
                }
                guard users[u].inRequest else { users[u].closeSocket(); continue }  // bytes nobody asked for
                switch buffer.withUnsafeBufferPointer({ users[u].consume(UnsafeBufferPointer(rebasing: $0.prefix(n)), at: now) }) {
                case .more: break
                case .done: end(u, error: nil)
                case .failed(let error): end(u, error: error)
                }
            }
        }
    }

    /// Monotonic nanoseconds.
    enum Clock {
        static var now: UInt64 {
            var t = timespec()
            clock_gettime(CLOCK_MONOTONIC, &t)
            return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
        }
    }

    /// One virtual user: its connection (kept alive between its requests) and the request in flight.
    struct User {
        enum Progress { case more, done, failed(String) }
        private enum Phase { case head, chunkSize, chunkData(Int), chunkEnd, trailer }

        var startAt: UInt64
        var waiting = true
        var fd: Int32 = -1
        var connecting = false
        var inRequest = false
        /// What this connection's epoll events carry: the user's slot, and in the high half a count of the
        /// user's connections, so an event left over from a closed one is told apart from the next.
        private(set) var token: UInt64 = 0
        private var connections: UInt64 = 0
        var index = 0
        var sample = LoadGenerator.Sample()
        private var sentAt: UInt64 = 0
        private var lastAt: UInt64 = 0
        private var phase = Phase.head
        private var pending: [UInt8] = []  // bytes of an unfinished header, chunk-size line or SSE line
        private var line: [UInt8] = []     // the SSE line being read from chunk data
        private var sawDone = false
        /// The stream is Responses events: content is an `output_text.delta` event's `"delta"`, and the end is
        /// the `response.completed` event (no `[DONE]` follows).
        private let responses: Bool

        init(startAt: UInt64, responses: Bool) {
            self.startAt = startAt
            self.responses = responses
        }

        mutating func beginRequest(index: Int, at now: UInt64) {
            self.index = index
            sample = LoadGenerator.Sample()
            sentAt = now
            phase = .head
            pending.removeAll(keepingCapacity: true)
            line.removeAll(keepingCapacity: true)
            sawDone = false
            inRequest = true
        }

        mutating func connect(to address: sockaddr_in, epoll: Int32, slot: Int) -> String? {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return "socket failed: errno \(errno)" }
            connections += 1
            token = connections << 32 | UInt64(slot)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var event = epoll_event()
            event.events = EPOLLOUT.rawValue
            event.data.u64 = token
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { return "epoll_ctl failed: errno \(errno)" }
            var target = address
            let rc = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc == 0 { return switchToReading(epoll: epoll) }
            guard errno == EINPROGRESS else { return "connect failed: errno \(errno)" }
            connecting = true
            return nil
        }

        mutating func finishConnect(epoll: Int32) -> String? {
            connecting = false
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 { return "connect failed: errno \(error)" }
            return switchToReading(epoll: epoll)
        }

        private mutating func switchToReading(epoll: Int32) -> String? {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = token
            return epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) == 0 ? nil : "epoll_ctl failed: errno \(errno)"
        }

        /// Writes the whole request. A few hundred bytes go at once; a long one (`--history-tokens`) may fill the
        /// socket buffer, and then this waits for room (up to a second at a time), holding up the other users for
        /// as long as the server takes to read it.
        mutating func send(_ request: [UInt8]) -> String? {
            var offset = 0
            while offset < request.count {
                let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN {
                        var waiter = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&waiter, 1, 1000)
                        continue
                    }
                    return "send failed: errno \(errno)"
                }
                offset += n
            }
            return nil
        }

        mutating func closeSocket() {
            if fd >= 0 { close(fd) }
            fd = -1
            connecting = false
            inRequest = false
        }

        /// Reads `bytes` of the response at `now`.
        mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>, at now: UInt64) -> Progress {
            var i = 0
            while i < bytes.count {
                switch phase {
                case .head:
                    pending.append(bytes[i])
                    i += 1
                    if pending.count >= 4, pending[pending.count - 4..<pending.count].elementsEqual([13, 10, 13, 10]) {
                        let head = String(decoding: pending, as: UTF8.self)
                        pending.removeAll(keepingCapacity: true)
                        let status = head.split(separator: " ", maxSplits: 2).dropFirst().first ?? ""
                        guard status == "200" else { return .failed("HTTP \(status)") }
                        guard head.lowercased().contains("transfer-encoding: chunked") else { return .failed("the stream's body is not chunked") }
                        phase = .chunkSize
                    }
                case .chunkSize:
                    let b = bytes[i]
                    i += 1
                    if b != 10 { pending.append(b); continue }
                    let digits = pending.prefix { $0 != 13 && $0 != 59 }  // up to CR or a chunk extension's ';'
                    pending.removeAll(keepingCapacity: true)
                    guard let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else { return .failed("bad chunk size line") }
                    phase = size == 0 ? .trailer : .chunkData(size)
                case .chunkData(let left):
                    let take = min(left, bytes.count - i)
                    if let failure = scan(UnsafeBufferPointer(rebasing: bytes[i..<i + take]), at: now) { return .failed(failure) }
                    i += take
                    phase = take == left ? .chunkEnd : .chunkData(left - take)
                case .chunkEnd:
                    if bytes[i] == 10 { phase = .chunkSize }
                    i += 1
                case .trailer:
                    let b = bytes[i]
                    i += 1
                    if b != 10 { pending.append(b); continue }
                    let empty = pending.isEmpty || pending == [13]
                    pending.removeAll(keepingCapacity: true)
                    guard empty else { continue }
                    inRequest = false
                    if i < bytes.count { return .failed("bytes after the end of the response") }
                    return sawDone ? .done : .failed("the stream ended without [DONE]")
                }
            }
            return .more
        }

        /// Finds SSE lines in chunk data; a `data:` line with `"content":"<something>"` is a content event.
        private mutating func scan(_ data: UnsafeBufferPointer<UInt8>, at now: UInt64) -> String? {
            for b in data {
                if b != 10 { line.append(b); continue }
                defer { line.removeAll(keepingCapacity: true) }
                guard line.starts(with: Self.dataPrefix) else { continue }
                let payload = line.dropFirst(Self.dataPrefix.count)
                if payload.elementsEqual(Self.doneMarker) || responses && payload.starts(with: Self.completedPrefix) { sawDone = true; continue }
                if payload.starts(with: Self.errorPrefix) {
                    return "error event: " + String(decoding: payload.prefix(200), as: UTF8.self)
                }
                if hasContent(payload) {
                    if sample.ttft == nil { sample.ttft = Double(now - sentAt) / 1e6 } else { sample.gaps.append(Double(now - lastAt) / 1e6) }
                    lastAt = now
                    sample.tokens += 1
                }
            }
            return nil
        }

        /// Whether the chunk JSON has `"content":` (a Responses text delta: `"delta":`) followed by a non-empty string.
        private func hasContent(_ payload: ArraySlice<UInt8>) -> Bool {
            if responses, !payload.starts(with: Self.textDeltaPrefix) { return false }
            let key = responses ? Self.deltaKey : Self.contentKey
            var i = payload.startIndex
            while i + key.count <= payload.endIndex {
                if payload[i] == key[0], payload[i..<i + key.count].elementsEqual(key) {
                    var j = i + key.count
                    while j < payload.endIndex, payload[j] == 32 { j += 1 }
                    return j + 1 < payload.endIndex && payload[j] == 34 && payload[j + 1] != 34
                }
                i += 1
            }
            return false
        }

        static let dataPrefix = Array("data: ".utf8)
        static let doneMarker = Array("[DONE]".utf8)
        static let errorPrefix = Array("{\"error\"".utf8)
        static let contentKey = Array("\"content\":".utf8)
        static let deltaKey = Array("\"delta\":".utf8)
        static let textDeltaPrefix = Array("{\"type\":\"response.output_text.delta\"".utf8)
        static let completedPrefix = Array("{\"type\":\"response.completed\"".utf8)
    }
}
