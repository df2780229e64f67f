/// Keeps tests that count or change process-wide resources (open file descriptors, threads, the environment)
/// from running while other test suites in the same test process open and close sockets.
///
/// All test targets of the package run in one process, so a client test that compares the FD count before
/// and after a thousand streams would see the server tests' connections come and go. Such a test runs its
/// body in ``exclusive(_:)``; a network-heavy test elsewhere brackets its work with ``enterShared()`` and
/// ``leaveShared()``. Shared holders run together; an exclusive holder waits for them to leave (at most
/// `maximumWait`, so a test that failed without leaving cannot hang the run) and keeps new ones waiting until
/// it is done.
public actor ProcessResourceGate {
    /// The one gate of the test process.
    public static let shared = ProcessResourceGate()

    /// The longest an exclusive holder waits for shared holders to leave.
    public static let maximumWait: Duration = .seconds(60)

    private var sharedHolders = 0
    private var exclusiveHeld = false
    private var exclusiveWaiting = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Waits until no exclusive holder runs or waits, then counts the caller as a shared holder.
    public func enterShared() async {
        while exclusiveHeld || exclusiveWaiting > 0 { await wait() }
        sharedHolders += 1
    }

    /// Ends a shared hold started with ``enterShared()``.
    public func leaveShared() {
        sharedHolders = max(0, sharedHolders - 1)
        wakeAll()
    }

    /// Runs `body` with no shared holder running (or after ``maximumWait``).
    public func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        exclusiveWaiting += 1
        let deadline = ContinuousClock.now + Self.maximumWait
        while exclusiveHeld || (sharedHolders > 0 && ContinuousClock.now < deadline) {
            let poke = Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(200))
                await self?.wakeAll()
            }
            await wait()
            poke.cancel()
        }
        exclusiveWaiting -= 1
        exclusiveHeld = true
        defer { exclusiveHeld = false; wakeAll() }
        return try await body()
    }

    private func wait() async {
        await withCheckedContinuation { waiters.append($0) }
    }

    private func wakeAll() {
        let woken = waiters
        waiters.removeAll()
        for waiter in woken { waiter.resume() }
    }
}
