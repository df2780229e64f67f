import Foundation
import Synchronization

/// A wall clock a test sets by hand (inject `{ clock.now }` where code reads the time).
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    /// A clock showing `start`.
    public init(_ start: Date) { current = Mutex(start) }

    /// The time it shows.
    public var now: Date { current.withLock { $0 } }
    /// Sets the time it shows.
    public func set(_ date: Date) { current.withLock { $0 = date } }
    /// Moves it forward.
    public func advance(seconds: TimeInterval) { current.withLock { $0 += seconds } }
}
