extension RequestHeadTimeoutHandler {
    /// When one connection's request-head deadline runs. Each pipeline event is a mutating func returning
    /// what the handler must do with its timer; the machine itself knows no clock and no channel, so tests
    /// drive it directly.
    ///
    /// The HTTP decoder passes a request on only once its head is complete, so the first bytes of a head are
    /// seen as a socket read that produced no request part. Such a read starts the deadline only while the
    /// connection is between requests (no request being read, no response being written): then every byte
    /// that arrives belongs to the next head. Bytes of a next head that come in the same read as the end of
    /// the previous request, or while a response is still being written (HTTP pipelining, which no common
    /// client does), start no deadline; Hummingbird's idle timeout still bounds such a connection.
    struct StateMachine {
        /// What the handler does after an event.
        enum Action: Equatable {
            case none
            /// Schedule the deadline (it is not running).
            case startTimer
            /// Cancel the running deadline.
            case cancelTimer
        }

        /// A request head was read and its end not yet.
        private var readingRequest = false
        /// Request heads read whose response has not ended yet.
        private var responsesPending = 0
        /// Whether the current socket read produced any request part.
        private var partsInThisRead = false
        /// Whether the deadline is scheduled.
        private(set) var timerRunning = false

        /// The decoder produced a request part (`isHead`: the head; `isEnd`: the end of the request).
        mutating func partRead(isHead: Bool, isEnd: Bool) -> Action {
            partsInThisRead = true
            if isHead {
                readingRequest = true
                responsesPending += 1
                if timerRunning {
                    timerRunning = false
                    return .cancelTimer
                }
            }
            if isEnd { readingRequest = false }
            return .none
        }

        /// A socket read ended (`channelReadComplete`).
        mutating func readComplete() -> Action {
            defer { partsInThisRead = false }
            guard !partsInThisRead, !readingRequest, responsesPending == 0, !timerRunning else { return .none }
            timerRunning = true
            return .startTimer
        }

        /// The end of a response was written.
        mutating func responseEnded() {
            responsesPending = max(0, responsesPending - 1)
        }

        /// The deadline passed: true when the connection is to be closed (its head is still incomplete).
        mutating func timerFired() -> Bool {
            guard timerRunning else { return false }
            timerRunning = false
            return true
        }
    }
}
