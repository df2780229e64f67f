/// One dispatched Server-Sent Event.
struct SSEEvent: Sendable, Hashable {
    /// The `event:` type, `message` when the stream set none.
    var type: String
    /// The joined `data:` lines (LF between lines, no trailing LF), as raw UTF-8 bytes.
    var data: [UInt8]
    /// The last event id seen so far (`id:` field), empty when none.
    var lastEventID: String

    /// The data as text; invalid UTF-8 becomes U+FFFD, as the spec's decoder does.
    var text: String { String(decoding: data, as: UTF8.self) }
}

/// An incremental `text/event-stream` parser following the WHATWG HTML "event stream
/// interpretation": lines end in CRLF, LF or CR; a blank line dispatches; `:` starts a comment;
/// `data` lines join with LF; one leading BOM is ignored; an unfinished event at end of stream is
/// dropped.
///
/// Bytes may be fed split anywhere (inside a UTF-8 sequence, between CR and LF): lines are cut
/// on bytes, and CR and LF never occur inside a multi-byte UTF-8 sequence.
struct SSEDecoder {
    /// Thrown when a line or an event's data grows past `maxLineBytes`.
    struct LineTooLong: Error {
        /// The first bytes of the line, as text.
        var prefix: String
    }

    /// The longest line (and the most event data) accepted, in bytes.
    let maxLineBytes: Int
    private var line: [UInt8] = []
    private var previousByteWasCR = false
    private var isFirstLine = true
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType = ""
    private var lastEventID = ""

    init(maxLineBytes: Int = 4 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds the next bytes of the stream; returns the events they complete, in order.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(LineTooLong) -> [SSEEvent] {
        var events: [SSEEvent] = []
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            if previousByteWasCR {
                previousByteWasCR = false
                if bytes[index] == UInt8(ascii: "\n") {
                    index += 1
                    continue
                }
            }
            var terminator = index
            while terminator < end, bytes[terminator] != UInt8(ascii: "\n"), bytes[terminator] != UInt8(ascii: "\r") {
                terminator += 1
            }
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<terminator]))
            if line.count > maxLineBytes { throw LineTooLong(prefix: String(decoding: line.prefix(1024), as: UTF8.self)) }
            guard terminator < end else { break }
            previousByteWasCR = bytes[terminator] == UInt8(ascii: "\r")
            index = terminator + 1
            if let event = try processLine() { events.append(event) }
            line.removeAll(keepingCapacity: true)
        }
        return events
    }

    /// Convenience for tests and callers holding an array.
    mutating func feed(_ bytes: [UInt8]) throws(LineTooLong) -> [SSEEvent] {
        // withUnsafeBytes cannot forward a typed throw, so the error is carried out in a Result.
        let result: Result<[SSEEvent], LineTooLong> = bytes.withUnsafeBytes { buffer in
            do throws(LineTooLong) { return .success(try feed(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private mutating func processLine() throws(LineTooLong) -> SSEEvent? {
        if isFirstLine {
            isFirstLine = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }  // comment or keep-alive
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = line[..<(colon ?? line.endIndex)]
        var valueStart = colon.map { $0 + 1 } ?? line.endIndex
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = line[valueStart...]
        switch String(decoding: name, as: UTF8.self) {
        case "data":
            data.append(contentsOf: value)
            data.append(UInt8(ascii: "\n"))
            hasData = true
            if data.count > maxLineBytes { throw LineTooLong(prefix: String(decoding: data.prefix(1024), as: UTF8.self)) }
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "id":
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        default:
            break  // `retry` and unknown fields are ignored
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            eventType = ""
        }
        guard hasData else { return nil }
        data.removeLast()  // the LF appended after the last data line
        return SSEEvent(type: eventType.isEmpty ? "message" : eventType, data: data, lastEventID: lastEventID)
    }
}
