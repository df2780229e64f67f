import Foundation

/// Reads a child process's pipe until it closes, on a thread of its own with blocking reads, handing each chunk
/// to `chunk` (empty data is never passed; the reads end at end of file).
///
/// Why not `FileHandle.readabilityHandler`: it arms a libdispatch read source, and setting up and tearing down
/// such sources from several tests at once can leave libdispatch's epoll bookkeeping pointing at freed memory,
/// which crashed the whole test process in `_dispatch_event_loop_drain` (swift-corelibs-libdispatch issue 949).
/// A blocking read never touches libdispatch.
public func readUntilClosed(_ handle: FileHandle, chunk: @escaping @Sendable (Data) -> Void) {
    Thread.detachNewThread {
        while true {
            let data = handle.availableData
            if data.isEmpty { return }
            chunk(data)
        }
    }
}
