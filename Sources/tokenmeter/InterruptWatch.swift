import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Calls a closure when the process gets SIGINT (Ctrl-C), whichever thread the kernel hands it to.
///
/// Why not `signal(SIGINT, SIG_IGN)` plus `DispatchSource.makeSignalSource`: libdispatch on Linux reads
/// signals from a `signalfd` and blocks the signal only in the thread that registered the source. A
/// process-directed SIGINT the kernel delivers to any other thread (the cooperative pool's, the curl loop's)
/// meets the `SIG_IGN` disposition there and is dropped, so Ctrl-C was sometimes lost (seen once under
/// ThreadSanitizer, which adds threads). Here the disposition is a real handler, which runs on whatever thread
/// receives the signal and only writes one byte to a pipe (async-signal-safe); a dispatch read source on
/// the pipe's other end runs `handler` on a normal queue.
final class InterruptWatch {
    private let source: DispatchSourceRead

    /// Starts watching; `handler` runs once per SIGINT, on a dispatch queue.
    init(handler: @escaping @Sendable () -> Void) {
        let readEnd = InterruptPipe.fds.read  // created here, before the handler can run
        source = DispatchSource.makeReadSource(fileDescriptor: readEnd, queue: .global())
        source.setEventHandler {
            var drain = [UInt8](repeating: 0, count: 64)
            while read(readEnd, &drain, drain.count) > 0 {}
            handler()
        }
        source.resume()
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var byte: UInt8 = 1
            let saved = errno
            _ = write(InterruptPipe.fds.write, &byte, 1)
            errno = saved
        }
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(SIGINT, &action, nil)
    }

    /// Stops watching; SIGINT goes back to its default action (end the process).
    func cancel() {
        signal(SIGINT, SIG_DFL)
        source.cancel()
    }
}

/// The self-pipe between the signal handler and the read source: both ends non-blocking, close-on-exec.
private enum InterruptPipe {
    static let fds: (read: Int32, write: Int32) = {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { fatalError("pipe failed: errno \(errno)") }
        for fd in ends {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        return (ends[0], ends[1])
    }()
}
