import CCurl
import Foundation
import Synchronization

/// Identifies one transfer on a `CurlEventLoop`.
struct TransferID: Hashable, Sendable {
    let rawValue: UInt64
}

/// Everything the loop thread needs to start one HTTP transfer.
struct TransferRequest: Sendable {
    /// How the response body is consumed.
    enum Mode: Sendable {
        /// Decode the body as a stream of events as it arrives.
        case stream
        /// Collect the whole body (at most `maxBytes`) and hand it over as one event at the end.
        case collect(maxBytes: Int)
    }

    var url: String
    var headers: [String]
    var body: [UInt8]
    var provider: Upstream.Provider
    var mode: Mode
    var timeouts: ChatTimeouts
    /// CA bundle path for CURLOPT_CAINFO, when the environment names one.
    var caBundle: String?
    /// The body's last byte waits for a `.release` command (see `ChatClient.stream(_:to:timeouts:holdingLastByte:)`).
    var holdsLastByte = false
}

/// The command queue into the loop thread: other threads post commands and wake the loop through its
/// eventfd; the loop takes them in order.
final class LoopInbox: Sendable {
    enum Command: Sendable {
        case start(TransferRequest, StreamBuffer)
        case cancel(TransferID)
        case unpause(TransferID)
        /// Sends the last byte of a body started with `holdsLastByte`.
        case release(TransferID)
    }

    private struct State {
        var commands: [Command] = []
        var closed = false
        var nextID: UInt64 = 1
    }

    private let state = Mutex(State())
    /// The loop's eventfd, written here to wake it. Every write happens under `state`'s lock and only while
    /// `closed` is false; the loop thread closes the descriptor only after it saw `closed` under that lock, so
    /// no wake can race with the close (or reach a reused descriptor).
    private let wakeFD: Int32

    init(wakeFD: Int32) {
        self.wakeFD = wakeFD
    }

    func makeID() -> TransferID {
        state.withLock { state in
            defer { state.nextID += 1 }
            return TransferID(rawValue: state.nextID)
        }
    }

    /// Queues a command and wakes the loop. Returns false when the loop has shut down.
    @discardableResult
    func post(_ command: Command) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.commands.append(command)
            wake()
            return true
        }
    }

    /// Takes all queued commands (loop thread).
    func take() -> (commands: [Command], closed: Bool) {
        state.withLock { state in
            defer { state.commands.removeAll() }
            return (state.commands, state.closed)
        }
    }

    /// Refuses further commands and wakes the loop so it can shut down; the loop ends the transfers
    /// still running or queued with `.clientShutdown`.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            wake()
        }
    }

    /// Adds one to the eventfd's counter. It cannot fail short of overflowing that 64-bit counter, which the
    /// loop resets on every wake.
    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }
}
