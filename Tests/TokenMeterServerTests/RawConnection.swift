import Foundation

/// A plain TCP connection to a port on 127.0.0.1, for tests that decide each byte a client sends and need to
/// see exactly when the server answers or closes. Waits poll the socket every 5 ms and sleep in between, so a
/// waiting test never blocks a thread of the cooperative pool the server's handlers run on.
final class RawConnection {
    /// What a wait for data saw.
    enum Received: Equatable {
        /// Bytes arrived.
        case bytes([UInt8])
        /// The server closed the connection (end of stream or reset).
        case closed
        /// Nothing arrived before the deadline; the connection is still open.
        case nothing
    }

    private var fd: Int32

    /// Connects (the kernel completes a connection to a listening socket even before the server accepts it).
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
    }

    deinit { close() }

    /// Sends `text` as UTF-8; throws when the server has closed the connection.
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a write to a connection the server closed fails with EPIPE instead of killing the test.
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPIPE) }
            offset += written
        }
    }

    /// Waits up to `timeout` for the next bytes from the server.
    func receive(timeout: Duration) async throws -> Received {
        let deadline = ContinuousClock.now + timeout
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) > 0 {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 { return .bytes(Array(buffer[..<count])) }
                return .closed  // 0: end of stream; -1: reset
            }
            if ContinuousClock.now >= deadline { return .nothing }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Reads one whole HTTP response (head and a `Content-Length` body) within `timeout`; returns its text, or
    /// nil when the connection closed or the time ran out first.
    func readResponse(timeout: Duration) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        while true {
            let text = String(decoding: bytes, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headEnd.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text.utf8.distance(from: text.startIndex, to: headEnd.upperBound) >= length {
                    return text
                }
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, case .bytes(let more) = try await receive(timeout: left) else { return nil }
            bytes += more
        }
    }

    /// Waits up to `timeout` for the server to close the connection, discarding anything it sends; returns
    /// whether it did.
    func waitForClose(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            switch try await receive(timeout: left) {
            case .closed: return true
            case .nothing: return false
            case .bytes: continue
            }
        }
    }

    /// Closes this side (idempotent).
    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }
}

/// A minimal keep-alive `GET /healthz` request.
let healthRequest = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
