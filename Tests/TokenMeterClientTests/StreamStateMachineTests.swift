import Foundation
import Testing
@testable import TokenMeterClient

@Suite struct StreamStateMachineTests {
    func event(bytes: Int) -> ChatEvent { ChatEvent(raw: Data(count: bytes)) }

    @Test func writesArePausedOnceTheLimitIsReachedAndResumedAtHalf() {
        var machine = StreamBuffer.StateMachine(limitBytes: 1000)
        guard case .accept = machine.admitWrite() else { Issue.record("empty buffer must accept"); return }
        _ = machine.produce((0..<4).map { _ in event(bytes: 236) })  // 4 × (236 + 64) = 1200 bytes
        guard case .pause = machine.admitWrite() else { Issue.record("full buffer must pause"); return }
        guard case .deliver(_, unpause: false) = machine.next() else { Issue.record("900 > 500: stay paused"); return }
        guard case .deliver(_, unpause: false) = machine.next() else { Issue.record("600 > 500: stay paused"); return }
        guard case .deliver(_, unpause: true) = machine.next() else { Issue.record("300 ≤ 500: unpause"); return }
        #expect(machine.bufferedBytes == 300)
        #expect(machine.peakBytes == 1200)
    }

    @Test func cancelAbortsTheTransferOnceAndLaterWritesAbort() {
        var machine = StreamBuffer.StateMachine(limitBytes: 1000)
        guard case .abortTransfer(nil) = machine.cancel() else { Issue.record("first cancel aborts"); return }
        guard case .none = machine.cancel() else { Issue.record("second cancel is a no-op"); return }
        guard case .abort = machine.admitWrite() else { Issue.record("writes after cancel abort"); return }
        guard case .deliver(.failure(.cancelled), _) = machine.next() else { Issue.record("consumer learns of the cancel"); return }
        guard case .deliver(.success(nil), _) = machine.next() else { Issue.record("then the end"); return }
    }

    @Test func pendingEventsAreDrainedBeforeTheError() {
        var machine = StreamBuffer.StateMachine(limitBytes: 1000)
        _ = machine.produce([event(bytes: 1), event(bytes: 2)])
        _ = machine.finish(.connectionLost(reason: "x"))
        guard case .deliver(.success(let first?), _) = machine.next(), first.raw.count == 1 else { Issue.record("first event"); return }
        guard case .deliver(.success(let second?), _) = machine.next(), second.raw.count == 2 else { Issue.record("second event"); return }
        guard case .deliver(.failure(.connectionLost), _) = machine.next() else { Issue.record("then the error"); return }
        guard case .deliver(.success(nil), _) = machine.next() else { Issue.record("then nil"); return }
    }
}
