import TokenMeterTokenizer
#if canImport(Glibc)
import Glibc
#endif

/// Raw reads and writes of the standard streams and of input files (no Foundation: it would cost
/// start-up time on every run of a command that should take milliseconds).
enum StandardStreams {
    /// Writes all of `bytes` to stdout.
    static func write(_ bytes: [UInt8]) throws(CLIFailure) {
        let failure = bytes.withUnsafeBytes { b in Result { () throws(CLIFailure) in try write(fd: 1, b) } }
        try failure.get()
    }

    static func write(_ text: String) throws(CLIFailure) {
        try write(Array(text.utf8))
    }

    /// Writes text to stdout at once (streamed answers); a failed write is ignored.
    static func writeUnbuffered(_ text: String) {
        var text = text
        text.withUTF8 { b in try? write(fd: 1, UnsafeRawBufferPointer(b)) }
    }

    static func writeError(_ text: String) {
        var text = text
        text.withUTF8 { b in try? write(fd: 2, UnsafeRawBufferPointer(b)) }
    }

    private static func write(fd: Int32, _ b: UnsafeRawBufferPointer) throws(CLIFailure) {
        var done = 0
        while done < b.count {
            let n = Glibc.write(fd, b.baseAddress! + done, b.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CLIFailure(.ioError, "cannot write output: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// The bytes of `path`, or of stdin when `path` is "-".
    static func read(_ path: String) throws(CLIFailure) -> [UInt8] {
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CLIFailure(.noInput, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { if fd != 0 { close(fd) } }
        var out: [UInt8] = []
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 {
            // A regular file: one allocation of its size, read in place.
            out = [UInt8](repeating: 0, count: Int(st.st_size))
            var done = 0
            while done < out.count {
                let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw CLIFailure(.noInput, "cannot read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { out.removeLast(out.count - done); return out }
                done += n
            }
            // The file may have grown since fstat: read on below.
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw CLIFailure(.noInput, "cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            out.append(contentsOf: chunk[..<n])
            if chunk.count < 1 << 22 && out.count > 4 * chunk.count {
                chunk = [UInt8](repeating: 0, count: chunk.count * 4)
            }
        }
        return out
    }

    /// The text of `path` (or stdin), which must be valid UTF-8; the error names the byte offset.
    static func readText(_ path: String) throws(CLIFailure) -> [UInt8] {
        let bytes = try read(path)
        if let offset = UTF8Validation.firstInvalidOffset(in: bytes) {
            let name = path == "-" ? "standard input" : path
            throw CLIFailure(.dataError, "\(name) is not valid UTF-8: bad byte at offset \(offset)")
        }
        return bytes
    }
}
