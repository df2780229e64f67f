/// An incremental newline-delimited JSON splitter: one JSON text per LF-terminated line (a CR
/// before the LF is dropped; blank lines are skipped). Bytes may be fed split anywhere.
struct NDJSONDecoder {
    /// Thrown when a line grows past `maxLineBytes`.
    struct LineTooLong: Error {
        /// The first bytes of the line, as text.
        var prefix: String
    }

    /// The longest line accepted, in bytes.
    let maxLineBytes: Int
    private var line: [UInt8] = []

    init(maxLineBytes: Int = 4 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds the next bytes; returns the complete non-blank lines, without terminators.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(LineTooLong) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<newline]))
            if line.count > maxLineBytes { throw LineTooLong(prefix: String(decoding: line.prefix(1024), as: UTF8.self)) }
            guard newline < bytes.endIndex else { break }
            index = newline + 1
            if let complete = takeLine() { lines.append(complete) }
        }
        return lines
    }

    /// Convenience for tests and callers holding an array.
    mutating func feed(_ bytes: [UInt8]) throws(LineTooLong) -> [[UInt8]] {
        let result: Result<[[UInt8]], LineTooLong> = bytes.withUnsafeBytes { buffer in
            do throws(LineTooLong) { return .success(try feed(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Ends the stream: a last line without a newline still counts.
    mutating func finish() -> [[UInt8]] {
        takeLine().map { [$0] } ?? []
    }

    private mutating func takeLine() -> [UInt8]? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        let isBlank = line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        return isBlank ? nil : line
    }
}
