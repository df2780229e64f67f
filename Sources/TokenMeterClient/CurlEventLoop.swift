import CCurl
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One libcurl multi handle driven by one dedicated thread: every transfer of a `ChatClient`
/// runs on it, however many there are, and connections to the same host are reused.
///
/// Other threads talk to the loop only through its `LoopInbox` (start, cancel, unpause).
final class CurlEventLoop: Sendable {
    let inbox: LoopInbox
    private let thread: Mutex<pthread_t?>

    /// Starts the loop thread; at most `maxIdleConnections` idle connections stay open for reuse.
    init(maxIdleConnections: Int) throws(ChatClientError) {
        _ = curlGlobalInit
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        let wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epoll >= 0, wake >= 0, tm_epoll_watch(epoll, wake, CURL_POLL_IN) == 0, let multi = curl_multi_init() else {
            if epoll >= 0 { close(epoll) }
            if wake >= 0 { close(wake) }
            throw .transport(code: -1, message: "could not set up the curl loop (epoll, eventfd or curl_multi_init)")
        }
        _ = tm_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxIdleConnections))
        let inbox = LoopInbox(wakeFD: wake)
        self.inbox = inbox
        // The worker is made here but handed to the new thread and never touched by this one again;
        // from then on only the loop thread uses it, the multi handle and the epoll descriptor.
        let worker = CurlLoopWorker(multi: multi, epoll: epoll, wake: wake, inbox: inbox)
        let box = Unmanaged.passRetained(ThreadBody { worker.run() }).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let body = Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue()
            tm_set_current_thread_name("tm-curl-loop")
            body.run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            worker.close()
            throw .transport(code: -1, message: "could not start the curl loop thread (errno \(result))")
        }
        self.thread = Mutex(thread)
    }

    deinit {
        shutdown()
    }

    /// Ends every transfer with `.clientShutdown`, stops the thread and waits for it. Idempotent.
    func shutdown() {
        inbox.close()
        guard let thread = self.thread.withLock({ value in defer { value = nil }; return value }) else { return }
        if pthread_equal(thread, pthread_self()) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }
}

/// libcurl's process-wide setup (OpenSSL and friends), done once before the first multi handle.
let curlGlobalInit: Void = {
    curl_global_init(tm_global_default())
}()

/// Carries the thread's closure through pthread_create's context pointer.
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// The loop thread's own state: the multi handle and its transfers. Touched by that thread only.
///
/// It drives libcurl with `curl_multi_socket_action`: libcurl reports the sockets it waits on (the socket
/// callback) and its next timeout (the timer callback), the loop waits on those sockets with epoll, and each
/// wake hands libcurl only the sockets that are ready. `curl_multi_perform` with `curl_multi_poll` instead
/// polls every open socket and visits every transfer on each wake, which at 200 streams was a third of the
/// loop's CPU.
private final class CurlLoopWorker {
    private let multi: UnsafeMutableRawPointer
    private let epoll: Int32
    private let wake: Int32
    private let inbox: LoopInbox
    private var transfers: [TransferID: EasyTransfer] = [:]
    private var byHandle: [UnsafeMutableRawPointer: EasyTransfer] = [:]
    /// When libcurl wants `CURL_SOCKET_TIMEOUT` handled (the timer callback); nil when it has no timer.
    private var curlTimer: ContinuousClock.Instant?
    /// When ``expireDeadlines()`` next walks the transfers: the earliest deadline it saw, at most a period away.
    private var nextDeadlineScan = ContinuousClock.now
    private static let deadlineScanPeriod = Duration.milliseconds(20)

    init(multi: UnsafeMutableRawPointer, epoll: Int32, wake: Int32, inbox: LoopInbox) {
        self.multi = multi
        self.epoll = epoll
        self.wake = wake
        self.inbox = inbox
        // The worker outlives the multi handle (run() cleans it up), so an unretained pointer is safe.
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = tm_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, context)
        _ = tm_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, context)
        _ = tm_multi_setopt_socket_callback(multi) { _, socket, what, context, _ in
            let worker = Unmanaged<CurlLoopWorker>.fromOpaque(context!).takeUnretainedValue()
            if what == CURL_POLL_REMOVE {
                tm_epoll_unwatch(worker.epoll, socket)
            } else {
                // Fails only for a descriptor epoll cannot watch; libcurl then sees the transfer time out.
                _ = tm_epoll_watch(worker.epoll, socket, what)
            }
            return 0
        }
        _ = tm_multi_setopt_timer_callback(multi) { _, milliseconds, context in
            let worker = Unmanaged<CurlLoopWorker>.fromOpaque(context!).takeUnretainedValue()
            worker.curlTimer = milliseconds < 0 ? nil : .now + .milliseconds(milliseconds)
            return 0
        }
    }

    func run() {
        var fds = [Int32](repeating: 0, count: 1024)
        var flags = [Int32](repeating: 0, count: 1024)
        var running: Int32 = 0
        while true {
            let (commands, closed) = inbox.take()
            for command in commands { handle(command, closed: closed) }
            if closed { break }
            if let timer = curlTimer, timer <= .now {
                curlTimer = nil
                curl_multi_socket_action(multi, tm_socket_timeout(), 0, &running)
            }
            collectFinished()
            var timeout = expireDeadlines()
            if let timer = curlTimer { timeout = min(timeout, Self.milliseconds(until: timer)) }
            // Up to 1,024 ready sockets a wake, so a burst (500 streams in step) is served in one sweep. With 64
            // a wake, the added inter-chunk p99 at 500 streams in step was 4-9 ms worse than curl_multi_perform's;
            // serving each wake in descriptor order was worse again.
            let ready = Int(tm_epoll_wait(epoll, &fds, &flags, Int32(fds.count), timeout))
            for index in 0..<max(0, ready) {
                if fds[index] == wake {
                    var counter: UInt64 = 0
                    _ = withUnsafeMutableBytes(of: &counter) { read(wake, $0.baseAddress, 8) }
                } else {
                    curl_multi_socket_action(multi, fds[index], flags[index], &running)
                }
            }
        }
        for transfer in Array(transfers.values) { abort(transfer, with: .clientShutdown) }
        curl_multi_cleanup(multi)
        close()
    }

    /// Closes the loop's descriptors: after the loop saw the inbox closed (so nothing writes the eventfd), or
    /// when its thread never started.
    func close() {
        Glibc.close(epoll)
        Glibc.close(wake)
    }

    /// Milliseconds from now until `instant`, rounded up so the wait does not end just before it; 0 once passed.
    private static func milliseconds(until instant: ContinuousClock.Instant) -> Int32 {
        let (seconds, attoseconds) = (instant - .now).components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return Int32(min(seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1, 1000))
    }

    private func handle(_ command: LoopInbox.Command, closed: Bool) {
        switch command {
        case .start(let request, let buffer):
            guard !closed else { return buffer.finish(.clientShutdown) }
            do {
                let transfer = try EasyTransfer(id: buffer.id, request: request, buffer: buffer)
                guard curl_multi_add_handle(multi, transfer.easy) == CURLM_OK else {
                    return buffer.finish(.transport(code: -1, message: "curl_multi_add_handle failed"))
                }
                transfers[transfer.id] = transfer
                byHandle[transfer.easy] = transfer
                nextDeadlineScan = min(nextDeadlineScan, .now + Self.deadlineScanPeriod)
            } catch {
                buffer.finish(error)
            }
        case .cancel(let id):
            if let transfer = transfers[id] { abort(transfer, with: .cancelled) }
        case .unpause(let id):
            guard let transfer = transfers[id], transfer.isPaused else { return }
            transfer.resumed()
            // May call the write callback right away, which may pause again. An upload held at its last byte
            // stays paused.
            curl_easy_pause(transfer.easy, transfer.isUploadPaused ? tm_pause_send() : tm_pause_cont())
        case .release(let id):
            guard let transfer = transfers[id], transfer.release() else { return }
            // Calls the read callback for the last byte; a response paused by a full buffer stays paused.
            curl_easy_pause(transfer.easy, transfer.isPaused ? tm_pause_recv() : tm_pause_cont())
        }
    }

    /// Removes a running transfer mid-way. FORBID_REUSE makes sure its connection is closed rather
    /// than returned to the pool half-read.
    private func abort(_ transfer: EasyTransfer, with error: ChatClientError) {
        _ = tm_easy_setopt_long(transfer.easy, CURLOPT_FORBID_REUSE, 1)
        remove(transfer)
        transfer.buffer.finish(error)
    }

    private func remove(_ transfer: EasyTransfer) {
        curl_multi_remove_handle(multi, transfer.easy)
        transfers[transfer.id] = nil
        byHandle[transfer.easy] = nil
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = byHandle[easy]
            else { continue }
            let code = message.pointee.data.result
            let (events, error) = transfer.completion(code: code)
            if error != nil { _ = tm_easy_setopt_long(transfer.easy, CURLOPT_FORBID_REUSE, 1) }
            remove(transfer)
            transfer.buffer.produce(events)
            transfer.buffer.finish(error)
        }
    }

    /// Fails transfers whose first-byte or idle deadline passed; returns how long the loop may
    /// sleep, in milliseconds, before the next deadline (at most 1 s).
    private func expireDeadlines() -> Int32 {
        let now = ContinuousClock.now
        if now >= nextDeadlineScan {
            // Deadlines only move later while a transfer runs, except when one connects or is unpaused; a scan
            // at least every `deadlineScanPeriod` catches those, and a busy loop (a wake per chunk) does not
            // walk every transfer on every wake.
            var earliest = now + (transfers.isEmpty ? .seconds(1) : Self.deadlineScanPeriod)
            var expired: [(EasyTransfer, TimeoutKind)] = []
            for transfer in transfers.values {
                guard let (deadline, kind) = transfer.deadline else { continue }
                if deadline <= now { expired.append((transfer, kind)) } else { earliest = min(earliest, deadline) }
            }
            for (transfer, kind) in expired {
                let seconds = kind == .firstByte ? transfer.request.timeouts.firstByte : transfer.request.timeouts.idle
                abort(transfer, with: .timeout(kind, seconds: seconds))
            }
            nextDeadlineScan = earliest
        }
        return Self.milliseconds(until: nextDeadlineScan)
    }
}
