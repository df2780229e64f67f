import Logging
import Synchronization
import TokenMeterLedger

/// Grows one stream's ledger hold ahead of the output it delivers (docs/LEDGER.md, "Holds").
///
/// A stream of visible output holds its prompt and a slice of output (``HoldPolicy``). After each delta the
/// driver reports what it delivered; once the unused part of the hold falls to half the last slice, an
/// extension starts in the background and joins the ledger's next group commit, so in the normal case the
/// hold has grown before the stream needs it and no delta waits. Only a delta that would pass the hold
/// waits (``waitFor(_:)``): for the extension in flight, then for one more asked for at least what the delta
/// needs. What it gets is final: the stream is cut at the last held token.
///
/// One growth belongs to one stream; its methods are called from that stream's task, the extensions run in
/// tasks of their own.
final class HoldGrowth: Sendable {
    private struct State {
        /// Completion tokens the ledger holds for the stream.
        var granted: Int
        /// The last slice added (the first: the admission's grant): the low-water mark is half of it.
        var lastSlice: Int
        /// The extension running in the background, if any.
        var pending: Task<Void, Never>?
        /// The last extension got nothing (nothing free, or the ledger failed): no more background extensions;
        /// a delta that needs more asks once more itself.
        var stalled = false
    }

    private let store: any GatewayLedger
    private let admitted: AdmittedRequest
    private let policy: HoldPolicy
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let alerts: BudgetAlerts?
    private let state: Mutex<State>

    /// Growth for `admitted`'s stream, starting from what its reservation holds.
    init(store: any GatewayLedger, admitted: AdmittedRequest, policy: HoldPolicy, metrics: GatewayMetrics, logger: Logger,
         alerts: BudgetAlerts? = nil) {
        self.alerts = alerts
        self.store = store
        self.admitted = admitted
        self.policy = policy
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State(granted: admitted.outputGrant, lastSlice: admitted.outputGrant))
    }

    /// Notes that `tokens` completion tokens were delivered and returns the tokens held now. Starts an
    /// extension in the background when the unused hold is down to half the last slice. Never waits.
    func delivered(_ tokens: Int) -> Int {
        state.withLock { s in
            if s.pending == nil, !s.stalled, s.granted < admitted.outputCeiling, s.granted - tokens <= s.lastSlice / 2 {
                s.pending = Task { await self.extend(needing: 0) }
            }
            return s.granted
        }
    }

    /// Waits until the hold covers `needed` completion tokens or cannot grow that far; returns the tokens
    /// held and whether that is final (the stream is then cut at them).
    func waitFor(_ needed: Int) async -> (granted: Int, final: Bool) {
        metrics.holdWait()
        if let pending = state.withLock({ $0.pending }) { await pending.value }
        let held = state.withLock { $0.granted }
        if held >= needed { return (held, false) }
        if held >= admitted.outputCeiling { return (held, true) }
        await extend(needing: needed)
        let now = state.withLock { $0.granted }
        return (now, now < needed)
    }

    /// One extension: by a slice of what is free, at least to `needed` tokens, within the output cap.
    private func extend(needing needed: Int) async {
        let admitted = admitted
        let policy = policy
        let before = state.withLock { $0.granted }
        let outcome: Int
        let exhausted = Mutex(Set<BudgetLimitKind>())
        defer { alerts?.limitReached(userID: admitted.key.user.id, exhausted.withLock { $0 }) }
        do {
            (_, outcome) = try await store.extend(admitted.reservation) { status, held in
                // The ledger's hold is the truth; this stream is its only writer, so it matches `before`.
                let granted = Int(held.tokens) - admitted.promptTokens
                let free = admitted.preflight.additionalCompletion(beyond: granted, status: status)
                let more = policy.slice(free: free, wanted: admitted.outputCeiling - granted, needed: needed - granted,
                                        streams: Int(status.liveReservations))
                guard more > 0 else {
                    exhausted.withLock { $0 = admitted.preflight.exhaustedForOutput(status: status) }
                    return (held, granted)
                }
                return (admitted.preflight.hold(completionTokens: granted + more), granted + more)
            }
        } catch {
            if case LedgerError.reservationNotOpen = error {} else {
                logger.warning("the stream's hold could not grow", metadata: ["error": "\(error)"])
            }
            metrics.holdExtended(.failed)
            state.withLock { $0.stalled = true; $0.pending = nil }
            return
        }
        metrics.holdExtended(outcome > before ? .granted : .refused)
        state.withLock { s in
            if outcome > s.granted {
                s.lastSlice = outcome - s.granted
                s.granted = outcome
            }
            s.stalled = outcome <= before
            s.pending = nil
        }
    }
}
