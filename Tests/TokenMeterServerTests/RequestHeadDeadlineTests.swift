import Testing
@testable import TokenMeterServer

/// The request-head deadline's state machine, driven directly (the end-to-end behaviour is in
/// ConnectionLimitsTests).
@Suite("Request-head deadline state machine")
struct RequestHeadDeadlineTests {
    typealias Machine = RequestHeadTimeoutHandler.StateMachine
    typealias Action = Machine.Action

    /// A connection's events, in order, and what the machine answered to each.
    enum Event { case read, head, body, end, responseEnd }

    func run(_ events: [Event], on machine: inout Machine) -> [Action] {
        events.map { event in
            switch event {
            case .read: return machine.readComplete()
            case .head: return machine.partRead(isHead: true, isEnd: false)
            case .body: return machine.partRead(isHead: false, isEnd: false)
            case .end: return machine.partRead(isHead: false, isEnd: true)
            case .responseEnd: machine.responseEnded(); return .none
            }
        }
    }

    @Test("bytes between requests that make no request part start the deadline once; the head cancels it")
    func partialHeadStartsAndHeadCancels() {
        var machine = Machine()
        #expect(run([.read, .read, .head, .read], on: &machine) == [.startTimer, .none, .cancelTimer, .none])
        let closes = machine.timerFired()
        #expect(!closes, "a cancelled deadline that fires anyway closes nothing")
    }

    @Test("no deadline while a body is read or a response is written; the next head's first bytes start it again")
    func noDeadlineDuringARequest() {
        var machine = Machine()
        // head; a read of chunk framing only (no part); body; end; a pipelined head's bytes while the response
        // is written; the response ends; the next head's first bytes.
        let actions = run([.head, .read, .read, .body, .read, .end, .read, .read, .responseEnd, .read], on: &machine)
        #expect(actions == [.none, .none, .none, .none, .none, .none, .none, .none, .none, .startTimer])
        let closes = machine.timerFired()
        #expect(closes)
    }
}
