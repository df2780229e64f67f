import Foundation

/// Something a few tests need from the machine (headless Chromium, root to mount a tmpfs, the openai Python
/// SDK), and what they do without it. A plain `swift test` skips them, so the suite runs anywhere; `make test`
/// sets `TOKENMETER_REQUIRE_ALL=1`, which makes a missing requirement a failure naming it, so a machine that
/// `make test` passed on has run every test.
///
/// A test needing one uses both halves: `.enabled(if: requirement.shouldRun, …)` as its trait, and
/// `try requirement.check()` as its first line.
public struct TestRequirement: Sendable {
    /// Whether this machine has it.
    public let isMet: Bool
    /// What is needed and how to get it, e.g. `headless Chromium (apt-get install chromium)`.
    public let what: String

    /// A requirement; `what` says what is needed and how to get it.
    public init(isMet: Bool, _ what: String) {
        self.isMet = isMet
        self.what = what
    }

    /// Whether every requirement must be met: `TOKENMETER_REQUIRE_ALL=1` (set by `make test`).
    public static var allRequired: Bool { ProcessInfo.processInfo.environment["TOKENMETER_REQUIRE_ALL"] == "1" }

    /// Whether a test needing this runs: when it is met, and when it is not but every requirement must be
    /// (the test then fails in ``check()``).
    public var shouldRun: Bool { isMet || Self.allRequired }

    /// Throws ``Missing`` when the requirement is not met.
    public func check() throws(Missing) {
        guard isMet else { throw Missing(what: what) }
    }

    /// A test ran without what it needs.
    public struct Missing: Error, CustomStringConvertible {
        /// What is needed and how to get it.
        public let what: String

        /// The failure for a missing `what`.
        public init(what: String) { self.what = what }

        public var description: String {
            "this test needs \(what), which this machine lacks; TOKENMETER_REQUIRE_ALL=1 (make test) makes that a failure, not a skip"
        }
    }
}
