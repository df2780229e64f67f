extension StreamBuffer {
    /// What the consumer receives for one `next()`: an event, the end (nil) or the error.
    typealias NextResult = Result<ChatEvent?, ChatClientError>
    /// A suspended consumer.
    typealias Waiter = CheckedContinuation<NextResult, Never>

    /// The state of one stream between the loop thread (producer) and the consuming task.
    ///
    /// Plain value type held under the buffer's lock: each event is a mutating func returning what
    /// to do; the owner does it after releasing the lock.
    struct StateMachine {
        /// Decoded events not yet handed to the consumer, with their size in bytes.
        ///
        /// Held as a payload of `State`: a `case .streaming(var pending, ...)` binding is a copy that shares
        /// `events`' storage with the state, so a mutation copies the whole array (a new allocation, on
        /// every event while the consumer lags). The mutating paths first set `state` to something else,
        /// which leaves the binding as the only owner, and store it back afterwards.
        struct Pending {
            private var events: [ChatEvent] = []
            private var head = 0
            /// Bytes held (raw chunk sizes plus a fixed overhead per event).
            private(set) var bytes = 0

            var isEmpty: Bool { head == events.count }

            mutating func append(_ event: ChatEvent) {
                events.append(event)
                bytes += Self.cost(of: event)
            }

            mutating func removeFirst() -> ChatEvent {
                let event = events[head]
                head += 1
                bytes -= Self.cost(of: event)
                if head == events.count {
                    events.removeAll(keepingCapacity: true)
                    head = 0
                } else if head >= 64, head * 2 >= events.count {
                    events.removeFirst(head)
                    head = 0
                }
                return event
            }

            static func cost(of event: ChatEvent) -> Int { event.raw.count + 64 }
        }

        private enum State {
            /// The transfer runs. `producerPaused`: the last write was refused (curl is paused).
            case streaming(Pending, waiter: Waiter?, producerPaused: Bool)
            /// The transfer ended; the consumer drains `pending`, then gets `ending` (nil: normal end).
            case draining(Pending, ending: ChatClientError?)
            /// The consumer cancelled; `delivered` once it was told.
            case cancelled(delivered: Bool)
            /// The consumer received the end or the error.
            case finished
        }

        /// The most bytes held before the producer is paused.
        let limitBytes: Int
        private var state: State = .streaming(Pending(), waiter: nil, producerPaused: false)
        /// The largest number of bytes ever held (for tests and benchmarks).
        private(set) var peakBytes = 0

        init(limitBytes: Int) {
            self.limitBytes = limitBytes
        }

        var bufferedBytes: Int {
            switch state {
            case .streaming(let pending, _, _), .draining(let pending, _): return pending.bytes
            case .cancelled, .finished: return 0
            }
        }

        // MARK: Consumer events

        enum NextAction {
            /// Hand this to the consumer now; `unpause` asks the loop to resume the transfer.
            case deliver(NextResult, unpause: Bool)
            /// Nothing yet: suspend.
            case suspend
        }

        /// Whether `next()` would return at once: an event is waiting, or the stream has ended.
        var hasResultReady: Bool {
            if case .streaming(let pending, _, _) = state { return !pending.isEmpty }
            return true
        }

        mutating func next() -> NextAction {
            switch state {
            case .streaming(var pending, let waiter, var paused):
                precondition(waiter == nil, "two concurrent next() calls: a ChatStream has exactly one consumer")
                guard !pending.isEmpty else { return .suspend }
                state = .finished  // let go of the state's copy, so `pending` is changed in place (see `Pending`)
                let event = pending.removeFirst()
                let unpause = paused && pending.bytes <= limitBytes / 2
                if unpause { paused = false }
                state = .streaming(pending, waiter: nil, producerPaused: paused)
                return .deliver(.success(event), unpause: unpause)
            case .draining(var pending, let ending):
                if pending.isEmpty {
                    state = .finished
                    return .deliver(ending.map { .failure($0) } ?? .success(nil), unpause: false)
                }
                state = .finished  // let go of the state's copy, so `pending` is changed in place
                let event = pending.removeFirst()
                state = .draining(pending, ending: ending)
                return .deliver(.success(event), unpause: false)
            case .cancelled(let delivered):
                state = .cancelled(delivered: true)
                return .deliver(delivered ? .success(nil) : .failure(.cancelled), unpause: false)
            case .finished:
                return .deliver(.success(nil), unpause: false)
            }
        }

        enum SuspendAction {
            case resume(Waiter, NextResult, unpause: Bool)
            case none
        }

        /// The consumer suspends; something may have arrived since `next()` looked.
        mutating func suspend(_ waiter: Waiter) -> SuspendAction {
            if case .streaming(let pending, nil, let paused) = state, pending.isEmpty {
                state = .streaming(pending, waiter: waiter, producerPaused: paused)
                return .none
            }
            guard case .deliver(let result, let unpause) = next() else {
                preconditionFailure("next() suspends only in the streaming state with nothing pending")
            }
            return .resume(waiter, result, unpause: unpause)
        }

        enum CancelAction {
            /// Abort the transfer; resume the waiting consumer (if any) with `.cancelled`.
            case abortTransfer(resuming: Waiter?)
            case none
        }

        mutating func cancel() -> CancelAction {
            switch state {
            case .streaming(_, let waiter, _):
                state = .cancelled(delivered: waiter != nil)
                return .abortTransfer(resuming: waiter)
            case .draining:
                state = .cancelled(delivered: false)
                return .none
            case .cancelled, .finished:
                return .none
            }
        }

        // MARK: Producer events (loop thread)

        enum WriteAdmission {
            /// Take the bytes.
            case accept
            /// The buffer is full: pause the transfer (the bytes stay with curl).
            case pause
            /// The consumer is gone: abort the transfer.
            case abort
        }

        mutating func admitWrite() -> WriteAdmission {
            switch state {
            case .streaming(let pending, let waiter, _):
                guard pending.bytes >= limitBytes else { return .accept }
                state = .streaming(pending, waiter: waiter, producerPaused: true)
                return .pause
            case .cancelled:
                return .abort
            case .draining, .finished:
                preconditionFailure("a transfer wrote data after it finished")
            }
        }

        enum ProduceAction {
            case resume(Waiter, NextResult)
            case none
        }

        mutating func produce(_ events: [ChatEvent]) -> ProduceAction {
            switch state {
            case .streaming(var pending, let waiter, let paused):
                var rest = events[...]
                var action = ProduceAction.none
                var stillWaiting = waiter
                if let waiter, let first = rest.popFirst() {
                    action = .resume(waiter, .success(first))
                    stillWaiting = nil
                }
                if !rest.isEmpty {
                    state = .finished  // let go of the state's copy, so `pending` is changed in place
                    for event in rest { pending.append(event) }
                }
                peakBytes = max(peakBytes, pending.bytes)
                state = .streaming(pending, waiter: stillWaiting, producerPaused: paused)
                return action
            case .cancelled:
                return .none
            case .draining, .finished:
                preconditionFailure("a transfer produced events after it finished")
            }
        }

        /// The transfer ended, normally (`error` nil) or not.
        mutating func finish(_ error: ChatClientError?) -> ProduceAction {
            switch state {
            case .streaming(let pending, let waiter, _):
                if let waiter {
                    precondition(pending.isEmpty, "a consumer waited while events were pending")
                    state = .finished
                    return .resume(waiter, error.map { .failure($0) } ?? .success(nil))
                }
                state = .draining(pending, ending: error)
                return .none
            case .cancelled:
                return .none
            case .draining, .finished:
                preconditionFailure("a transfer finished twice")
            }
        }
    }
}
