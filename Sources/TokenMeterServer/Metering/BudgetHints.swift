import Synchronization
import TokenMeterLedger
import TokenMeterMoney

/// Each user's budget status as the last reservation left it (that reservation's hold included), kept in
/// memory so the next request can tell, without a ledger round trip, whether its budget could be what limits
/// its output cap. When it cannot, the gateway starts the upstream request while the reservation commits.
///
/// A hint is never trusted for money: the reservation re-reads the status in its transaction, refuses or
/// sizes the hold from that, and the stream meter enforces the allowance computed there. A stale hint can
/// only send the sequential path (reserve, then call upstream) where the overlapped one would have done.
final class BudgetHints: Sendable {
    private let statuses = Mutex<[Int64: BudgetStatus]>([:])

    /// The status the last reservation of `userID` saw, with its own hold added; nil if none yet.
    func status(ofUser userID: Int64) -> BudgetStatus? {
        statuses.withLock { $0[userID] }
    }

    /// Records `status` (read in a reservation's transaction) plus the hold that reservation took.
    func record(_ status: BudgetStatus, holding hold: UsageEstimate) {
        var after = status
        after.heldCost = after.heldCost.adding(hold.cost) ?? Money(picoUSD: .max)
        after.heldTokens = after.heldTokens &+ hold.tokens
        statuses.withLock { $0[status.userID] = after }
    }
}
