#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations vocabulary loading needs, without Foundation (which would add
/// measurable time to every `tokenmeter` start).
enum FileSystem {
    struct Status { var size: UInt64; var mtimeSeconds: Int64; var mtimeNanoseconds: Int64 }

    static func status(_ path: String) -> Status? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        #if canImport(Darwin)
        return Status(size: UInt64(st.st_size), mtimeSeconds: Int64(st.st_mtimespec.tv_sec),
                      mtimeNanoseconds: Int64(st.st_mtimespec.tv_nsec))
        #else
        return Status(size: UInt64(st.st_size), mtimeSeconds: Int64(st.st_mtim.tv_sec),
                      mtimeNanoseconds: Int64(st.st_mtim.tv_nsec))
        #endif
    }

    static func exists(_ path: String) -> Bool { status(path) != nil }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The whole file, or a message saying why it could not be read.
    static func read(_ path: String) -> Result<[UInt8], StringError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(StringError(errnoMessage())) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(StringError(errnoMessage())) }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return .failure(StringError(n == 0 ? "file shrank while reading" : errnoMessage())) }
            done += n
        }
        return .success(bytes)
    }

    /// Maps a file read-only; nil when it cannot be opened or mapped.
    static func map(_ path: String) -> (UnsafeRawBufferPointer, unmap: @Sendable () -> Void)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 0 else { return nil }
        let size = Int(st.st_size)
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        let address = UInt(bitPattern: p)
        return (UnsafeRawBufferPointer(start: p, count: size), {
            _ = munmap(UnsafeMutableRawPointer(bitPattern: address), size)
        })
    }

    /// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename),
    /// creating the directory if needed. Returns false on any failure; the caller carries on without.
    static func writeAtomically(_ bytes: [UInt8], to path: String) -> Bool {
        guard let slash = path.lastIndex(of: "/") else { return false }
        let dir = String(path[..<slash])
        guard makeDirectories(dir) else { return false }
        let temp = "\(path).\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { close(fd); unlink(temp); return false }
            done += n
        }
        guard close(fd) == 0, rename(temp, path) == 0 else { unlink(temp); return false }
        return true
    }

    static func makeDirectories(_ path: String) -> Bool {
        if isDirectory(path) { return true }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            guard makeDirectories(String(path[..<slash])) else { return false }
        }
        return mkdir(path, 0o755) == 0 || errno == EEXIST
    }

    /// The running executable's path (`/proc/self/exe` on Linux), or nil.
    static func executablePath() -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        return CommandLine.arguments.first
        #endif
    }

    static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    static func errnoMessage() -> String { String(cString: strerror(errno)) }
}

/// An error that is only a message (used inside loading, then wrapped in a `TokenizerError`).
struct StringError: Error { let message: String; init(_ m: String) { message = m } }
