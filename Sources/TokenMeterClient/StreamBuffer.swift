import Synchronization

/// The bounded hand-off between the curl loop thread (producer) and the one task consuming a
/// `ChatStream`. Holds at most about `limitBytes` of decoded events: when full, the loop thread
/// pauses the transfer; when the consumer drains below half, it posts an unpause.
final class StreamBuffer: Sendable {
    let id: TransferID
    private let state: Mutex<StateMachine>
    private let inbox: LoopInbox

    init(id: TransferID, limitBytes: Int, inbox: LoopInbox) {
        self.id = id
        self.state = Mutex(StateMachine(limitBytes: limitBytes))
        self.inbox = inbox
    }

    /// Bytes of decoded events waiting for the consumer.
    var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }
    /// Whether `next()` would return without waiting.
    var hasResultReady: Bool { state.withLock { $0.hasResultReady } }
    /// The most bytes ever waiting at once.
    var peakBufferedBytes: Int { state.withLock { $0.peakBytes } }

    // MARK: Consumer side

    /// The next event, nil at the end, or the stream's error. Honours task cancellation.
    func next() async -> NextResult {
        if Task.isCancelled {
            cancel()
        }
        switch state.withLock({ $0.next() }) {
        case .deliver(let result, let unpause):
            if unpause { inbox.post(.unpause(id)) }
            return result
        case .suspend:
            break
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: Waiter) in
                switch state.withLock({ $0.suspend(waiter) }) {
                case .resume(let waiter, let result, let unpause):
                    if unpause { inbox.post(.unpause(id)) }
                    waiter.resume(returning: result)
                case .none:
                    break
                }
            }
        } onCancel: {
            cancel()
        }
    }

    /// Stops the stream: aborts the transfer (its connection is closed, not reused) and wakes a
    /// waiting consumer with `.cancelled`. Idempotent; a no-op once the stream ended.
    func cancel() {
        switch state.withLock({ $0.cancel() }) {
        case .abortTransfer(let waiter):
            inbox.post(.cancel(id))
            waiter?.resume(returning: .failure(.cancelled))
        case .none:
            break
        }
    }

    /// Lets a held-back request body finish (see `ChatStream.releaseLastByte()`).
    func releaseLastByte() {
        inbox.post(.release(id))
    }

    // MARK: Producer side (loop thread)

    func admitWrite() -> StateMachine.WriteAdmission {
        state.withLock { $0.admitWrite() }
    }

    func produce(_ events: [ChatEvent]) {
        guard !events.isEmpty else { return }
        perform(state.withLock { $0.produce(events) })
    }

    func finish(_ error: ChatClientError?) {
        perform(state.withLock { $0.finish(error) })
    }

    private func perform(_ action: StateMachine.ProduceAction) {
        switch action {
        case .resume(let waiter, let result): waiter.resume(returning: result)
        case .none: break
        }
    }
}
