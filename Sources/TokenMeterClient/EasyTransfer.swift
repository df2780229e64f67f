import CCurl
import Foundation

/// One HTTP transfer on the loop thread: its curl easy handle, callbacks, decoder and timers.
///
/// Lives only on the loop thread (not Sendable). Callbacks reach it through an unretained
/// pointer; the worker's table keeps it alive until the handle is removed from the multi handle.
final class EasyTransfer {
    let id: TransferID
    let request: TransferRequest
    let buffer: StreamBuffer
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var parser: ChatStreamParser
    /// The body (collect mode) or the error body (non-2xx status), bounded.
    private var collected = Data()
    private var status: Int?
    /// Set by a callback that decided to abort; wins over curl's own result code.
    private(set) var failure: ChatClientError?

    let startedAt = ContinuousClock.now
    private(set) var connectedAt: ContinuousClock.Instant?
    private(set) var firstByteAt: ContinuousClock.Instant?
    private var lastDataAt = ContinuousClock.now
    /// The write callback refused data because the consumer's buffer is full.
    private(set) var isPaused = false
    /// Bytes of the body handed to libcurl so far (read-callback bodies only).
    private var bodySent = 0
    /// Whether the body's last byte may go (always, unless the request holds it back until ``release()``).
    private var lastByteReleased: Bool
    /// The read callback stopped at the held-back last byte, so the upload is paused.
    private(set) var isUploadPaused = false

    init(id: TransferID, request: TransferRequest, buffer: StreamBuffer) throws(ChatClientError) {
        guard let easy = curl_easy_init() else { throw .transport(code: -1, message: "curl_easy_init failed") }
        self.id = id
        self.request = request
        self.buffer = buffer
        self.easy = easy
        self.parser = ChatStreamParser(provider: request.provider)
        self.lastByteReleased = !request.holdsLastByte || request.body.isEmpty
        errorBuffer.initialize(to: 0)
        try configure()
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func configure() throws(ChatClientError) {
        var ok = tm_easy_setopt_str(easy, CURLOPT_URL, request.url) == CURLE_OK
        guard ok else { throw .invalidRequest(reason: "libcurl rejected the URL \(request.url)") }
        for header in request.headers { headerList = curl_slist_append(headerList, header) }
        let context = Unmanaged.passUnretained(self).toOpaque()
        ok = ok && tm_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList) == CURLE_OK
        ok = ok && tm_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && tm_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, tm_http_version_1_1()) == CURLE_OK
        ok = ok && tm_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.timeouts.connect)) == CURLE_OK
        ok = ok && tm_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1) == CURLE_OK
        ok = ok && tm_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && tm_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)) == CURLE_OK
        if request.body.count > 64 << 10 {
            // A long body (a conversation re-sent with its history) leaves in one or two writes rather than one
            // per 64 KiB, libcurl's default upload buffer (a 535 KB body: 9 sendto calls). Fewer calls, but no
            // change in time to first token measured (docs/history/benchmarks-server-history-2026-12-06.md).
            // Small bodies keep the default, as every transfer allocates a buffer of this size; libcurl caps it
            // at 2 MiB.
            ok = ok && tm_easy_setopt_long(easy, CURLOPT_UPLOAD_BUFFERSIZE, min(request.body.count, 2 << 20)) == CURLE_OK
        }
        if lastByteReleased {
            ok = ok && request.body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes, so the pointer need not outlive this call.
                tm_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(errorBuffer))) == CURLE_OK
            }
        } else {
            // The body is read through the callback, which pauses the upload before the last byte (with
            // POSTFIELDSIZE set above, libcurl sends Content-Length, not chunks).
            ok = ok && tm_easy_setopt_long(easy, CURLOPT_POST, 1) == CURLE_OK
            ok = ok && tm_easy_setopt_read_callback(easy, transferReadCallback) == CURLE_OK
            ok = ok && tm_easy_setopt_ptr(easy, CURLOPT_READDATA, context) == CURLE_OK
        }
        ok = ok && tm_easy_setopt_write_callback(easy, transferWriteCallback) == CURLE_OK
        ok = ok && tm_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, context) == CURLE_OK
        ok = ok && tm_easy_setopt_header_callback(easy, transferHeaderCallback) == CURLE_OK
        ok = ok && tm_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, context) == CURLE_OK
        ok = ok && tm_easy_setopt_prereq_callback(easy, transferPrereqCallback) == CURLE_OK
        ok = ok && tm_easy_setopt_ptr(easy, CURLOPT_PREREQDATA, context) == CURLE_OK
        if let caBundle = request.caBundle {
            ok = ok && tm_easy_setopt_str(easy, CURLOPT_CAINFO, caBundle) == CURLE_OK
        }
        guard ok else { throw .transport(code: -1, message: "libcurl rejected a transfer option") }
    }

    static func milliseconds(_ seconds: Double) -> Int {
        Int((seconds * 1000).rounded(.up))
    }

    // MARK: Callbacks (loop thread, inside curl_multi_perform or curl_easy_pause)

    /// The connection is up (new or reused) and the request is about to go out.
    func connected() {
        connectedAt = ContinuousClock.now
    }

    /// libcurl wants up to `buffer.count` more body bytes. Returns how many were copied, or CURL_READFUNC_PAUSE
    /// at the held-back last byte until ``release()``.
    func readBody(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let end = lastByteReleased ? request.body.count : request.body.count - 1
        guard bodySent < end || bodySent == request.body.count else {
            isUploadPaused = true
            return tm_readfunc_pause()
        }
        let count = min(buffer.count, end - bodySent)
        request.body.withUnsafeBytes { body in
            buffer.baseAddress!.copyMemory(from: body.baseAddress! + bodySent, byteCount: count)
        }
        bodySent += count
        return count
    }

    /// Lets the last byte go. Returns true when the upload was paused at it, so the caller must resume it.
    func release() -> Bool {
        lastByteReleased = true
        defer { isUploadPaused = false }
        return isUploadPaused
    }

    /// A response header line arrived.
    func receivedHeader(_ count: Int) -> Int {
        let now = ContinuousClock.now
        if firstByteAt == nil { firstByteAt = now }
        lastDataAt = now
        return count
    }

    /// Response body bytes arrived. Returns the count to take them, 0 to abort, or
    /// CURL_WRITEFUNC_PAUSE to leave them with curl until the consumer catches up.
    func receivedBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        let now = ContinuousClock.now
        if firstByteAt == nil { firstByteAt = now }
        lastDataAt = now
        let status = self.status ?? responseCode()
        self.status = status
        if !(200..<300).contains(status) {
            if collected.count < 64 << 10 { collected.append(contentsOf: bytes.prefix(64 << 10 - collected.count)) }
            return bytes.count
        }
        switch buffer.admitWrite() {
        case .accept:
            isPaused = false
        case .pause:
            isPaused = true
            return tm_writefunc_pause()
        case .abort:
            failure = .cancelled
            return 0
        }
        switch request.mode {
        case .collect(let maxBytes):
            guard collected.count + bytes.count <= maxBytes else {
                failure = .transport(code: Int(CURLE_FILESIZE_EXCEEDED.rawValue), message: "the response is larger than \(maxBytes) bytes")
                return 0
            }
            collected.append(contentsOf: bytes)
        case .stream:
            var events: [ChatEvent] = []
            do {
                try parser.parse(bytes, into: &events)
                buffer.produce(events)
            } catch {
                // What the read completed before the failure still reaches the consumer, then the error.
                buffer.produce(events)
                failure = error
                return 0
            }
        }
        return bytes.count
    }

    /// The loop resumed the transfer after the consumer drained: the idle clock restarts.
    func resumed() {
        isPaused = false
        lastDataAt = ContinuousClock.now
    }

    // MARK: Deadlines

    /// The next deadline of this transfer and which timeout it is.
    var deadline: (at: ContinuousClock.Instant, kind: TimeoutKind)? {
        guard let connectedAt else { return nil }  // curl's CONNECTTIMEOUT covers connecting
        guard firstByteAt != nil else { return (connectedAt + .seconds(request.timeouts.firstByte), .firstByte) }
        guard !isPaused else { return nil }
        return (lastDataAt + .seconds(request.timeouts.idle), .idle)
    }

    // MARK: Completion

    /// The outcome once curl reports the transfer done with `code`: events still to deliver and
    /// the error (nil for a normal end).
    func completion(code: CURLcode) -> (events: [ChatEvent], error: ChatClientError?) {
        if let failure { return ([], failure) }
        let status = responseCode()
        if code == CURLE_OK, !(200..<300).contains(status) {
            let text = String(decoding: collected.prefix(4096), as: UTF8.self)
            return ([], .httpStatus(code: status, error: ProviderError(body: collected), body: text))
        }
        guard code == CURLE_OK else { return ([], error(for: code)) }
        switch request.mode {
        case .collect:
            return ([ChatEvent(raw: collected)], nil)
        case .stream:
            do {
                return (try parser.finish(), nil)
            } catch {
                return ([], error)
            }
        }
    }

    private func responseCode() -> Int {
        var code = 0
        _ = tm_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func error(for code: CURLcode) -> ChatClientError {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return .connectFailed(url: request.url, reason: message)
        case CURLE_OPERATION_TIMEDOUT:
            // Only CURLOPT_CONNECTTIMEOUT_MS is set on the handle (first-byte and idle deadlines are
            // the loop's own timers), so curl's timeout can only be the connect one.
            return .timeout(.connect, seconds: request.timeouts.connect)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED,
            CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return .tls(reason: message)
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2_STREAM:
            return .connectionLost(reason: message)
        default:
            return .transport(code: Int(code.rawValue), message: message)
        }
    }
}

// C callbacks: no captures; the transfer arrives as the userdata pointer.

private let transferWriteCallback: tm_data_callback = { data, size, count, context in
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(context!).takeUnretainedValue()
    return transfer.receivedBody(UnsafeRawBufferPointer(start: data, count: size * count))
}

private let transferHeaderCallback: tm_data_callback = { _, size, count, context in
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(context!).takeUnretainedValue()
    return transfer.receivedHeader(size * count)
}

private let transferReadCallback: tm_data_callback = { data, size, count, context in
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(context!).takeUnretainedValue()
    return transfer.readBody(into: UnsafeMutableRawBufferPointer(start: data, count: size * count))
}

private let transferPrereqCallback: curl_prereq_callback = { context, _, _, _, _ in
    Unmanaged<EasyTransfer>.fromOpaque(context!).takeUnretainedValue().connected()
    return CURL_PREREQFUNC_OK
}
