import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterMoney

/// Budget alerts (docs/ALERTS.md): each threshold of each monthly limit fires once per user and month, as a
/// log line, a metric and, with a webhook configured, a signed JSON POST retried with backoff.
///
/// Nothing here blocks a request: the settle and the admission only note that a user's spend changed (or
/// that a limit had nothing left), and the check runs in a task of its own, at most one per user at a time
/// (notes that arrive meanwhile make it run once more). "Once" is the ledger's: an alert is a row with a
/// unique (user, month, limit, threshold) key, so concurrent checks, on this instance or on others sharing
/// a PostgreSQL ledger, record it once and only the one that recorded it sends it.
final class BudgetAlerts: Sendable {
    private struct Key: Hashable {
        let userID: Int64
        let period: BillingPeriod
        let limit: BudgetLimitKind
        let threshold: Int
    }

    private struct Pending {
        /// Another check is due after the running one.
        var again = false
        /// Limits found with nothing left since the last check started.
        var reached: Set<BudgetLimitKind> = []
    }

    private struct State {
        /// Users whose check is running.
        var running: [Int64: Pending] = [:]
        /// Alerts known to be recorded (by anyone): no need to ask the ledger again. Only the current month's.
        var recorded: Set<Key> = []
        var month: BillingPeriod?
    }

    private let store: any GatewayLedger
    private let settings: AlertSettings
    private let thresholds: [Int]
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let state = Mutex(State())
    /// Checks and deliveries in flight, so tests and shutdown can wait for them.
    private let work = Mutex(0)
    /// Webhook deliveries running, by a serial number: cancelled at shutdown (their claims then run out and
    /// the next instance to sweep sends them).
    private let deliveries = Mutex((next: UInt64(0), tasks: [UInt64: Task<Void, Never>](), stopped: false))

    init(store: any GatewayLedger, settings: AlertSettings, metrics: GatewayMetrics, logger: Logger,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.settings = settings
        self.thresholds = settings.thresholdsPercent.sorted()
        self.metrics = metrics
        self.logger = logger
        self.now = now
    }

    /// A request of `userID` settled: its spend may have crossed a threshold.
    func spendChanged(userID: Int64, budget: Budget) {
        guard !thresholds.isEmpty, budget.monthlyLimit != nil || budget.monthlyTokenLimit != nil else { return }
        note(userID: userID, reached: [])
    }

    /// A monthly limit of `userID` had nothing left for a request (refused at admission, or a stream's hold
    /// could not grow): the limit is reached in practice, whatever the settled spend says.
    func limitReached(userID: Int64, _ limits: Set<BudgetLimitKind>) {
        guard !thresholds.isEmpty, !limits.isEmpty else { return }
        note(userID: userID, reached: limits)
    }

    private func note(userID: Int64, reached: Set<BudgetLimitKind>) {
        let start = state.withLock { s -> Bool in
            if var pending = s.running[userID] {
                pending.again = true
                pending.reached.formUnion(reached)
                s.running[userID] = pending
                return false
            }
            s.running[userID] = Pending()
            return true
        }
        guard start else { return }
        began()
        Task {
            var reached = reached
            while true {
                await check(userID: userID, reached: reached)
                let next: Pending? = state.withLock { s in
                    guard let pending = s.running[userID], pending.again else {
                        s.running[userID] = nil
                        return nil
                    }
                    s.running[userID] = Pending()
                    return pending
                }
                guard let next else { break }
                reached = next.reached
            }
            ended()
        }
    }

    /// Records and sends what `userID`'s month has crossed and is not recorded yet.
    private func check(userID: Int64, reached: Set<BudgetLimitKind>) async {
        let status: BudgetStatus
        do { status = try await store.remaining(userID: userID) } catch {
            logger.warning("budget alerts: cannot read the user's spend", metadata: ["user_id": "\(userID)", "error": "\(error)"])
            return
        }
        let limits: [(BudgetLimitKind, Int64?, Int64, Int64)] = [
            (.usd, status.budget.monthlyLimit?.picoUSD, status.settledCost.picoUSD, status.committedCost.picoUSD),
            (.tokens, status.budget.monthlyTokenLimit, status.settledTokens, status.committedTokens),
        ]
        for (kind, limit, spent, committed) in limits {
            guard let limit, limit > 0 else { continue }
            for threshold in thresholds {
                let key = Key(userID: userID, period: status.period, limit: kind, threshold: threshold)
                let known = state.withLock { s -> Bool in
                    if s.month != status.period {
                        s.month = status.period
                        s.recorded.removeAll()
                    }
                    return s.recorded.contains(key)
                }
                if known { continue }
                let reason: BudgetAlertReason
                if Int128(spent) * 100 >= Int128(limit) * Int128(threshold) {
                    reason = .spent
                } else if reached.contains(kind), threshold <= 100 {
                    reason = .limitReached
                } else {
                    break  // thresholds are ascending: the higher ones are not crossed either
                }
                let event = BudgetAlertEvent(userID: userID, period: status.period, limit: kind, thresholdPercent: threshold,
                                             limitValue: limit, spent: spent, committed: committed, reason: reason)
                do {
                    if let alert = try await store.recordBudgetAlert(event, claim: settings.claim) { fired(alert) }
                    _ = state.withLock { $0.recorded.insert(key) }
                } catch {
                    logger.warning("budget alerts: cannot record an alert; the next settle tries again",
                                   metadata: ["user_id": "\(userID)", "error": "\(error)"])
                    return
                }
            }
        }
    }

    private func fired(_ alert: BudgetAlert) {
        let e = alert.event
        logger.notice("budget alert", metadata: [
            "alert_id": "\(alert.id)", "user": "\(alert.userName)", "month": "\(e.period)", "limit": "\(e.limit.rawValue)",
            "threshold_percent": "\(e.thresholdPercent)", "reason": "\(e.reason.rawValue)",
            "limit_value": "\(Self.amount(e.limitValue, e.limit))", "spent": "\(Self.amount(e.spent, e.limit))",
        ])
        metrics.alertFired(e)
        guard let url = settings.webhookURL, let secret = settings.webhookSecret else { return }
        startDelivery(alert, to: url, secret: secret)
    }

    private func startDelivery(_ alert: BudgetAlert, to url: String, secret: String) {
        began()
        deliveries.withLock { d in
            guard !d.stopped else { ended(); return }
            let id = d.next
            d.next += 1
            d.tasks[id] = Task {
                defer {
                    ended()
                    _ = deliveries.withLock { $0.tasks.removeValue(forKey: id) }
                }
                await deliver(alert, to: url, secret: secret)
            }
        }
    }

    /// At shutdown: cancels the deliveries waiting for a retry; later sweeps (here after a restart, or on another
    /// instance) send them once their claims run out.
    func stop() {
        let running = deliveries.withLock { d in
            d.stopped = true
            return Array(d.tasks.values)
        }
        for task in running { task.cancel() }
    }

    /// Sends the alerts whose sender stopped before delivering them (a crash, a restart, a lost instance):
    /// those not delivered, with attempts left, fired in the last week, whose sender's claim ran out. Each is
    /// claimed in the ledger first, so one instance sends it; its attempts go on from where they stopped.
    func sweep() async {
        guard let url = settings.webhookURL, let secret = settings.webhookSecret else { return }
        let claimed: [BudgetAlert]
        do {
            claimed = try await store.claimUndeliveredAlerts(attempts: settings.webhookAttempts, within: .seconds(7 * 86_400),
                                                              claim: settings.claim, limit: 100)
        } catch {
            logger.warning("budget alerts: cannot look for undelivered alerts", metadata: ["error": "\(error)"])
            return
        }
        for alert in claimed {
            logger.notice("budget alert: sending again, its sender stopped", metadata: [
                "alert_id": "\(alert.id)", "attempts_before": "\(alert.attempts)"])
            startDelivery(alert, to: url, secret: secret)
        }
    }

    /// POSTs `alert`, retrying with doubling waits, and notes each attempt in the ledger. Attempts go on from
    /// those the ledger already counts.
    private func deliver(_ alert: BudgetAlert, to url: String, secret: String) async {
        let body = Self.payload(alert)
        var wait = settings.firstRetry
        guard alert.attempts < settings.webhookAttempts else { return }
        for attempt in (alert.attempts + 1)...settings.webhookAttempts {
            if Task.isCancelled { return }
            let timestamp = Int(now().timeIntervalSince1970)
            let headers = ["Content-Type: application/json", "User-Agent: TokenMeter",
                           "X-TokenMeter-Alert-Id: \(alert.id)", "X-TokenMeter-Timestamp: \(timestamp)",
                           "X-TokenMeter-Signature: sha256=\(Self.signature(body, timestamp: timestamp, secret: secret))"]
            var failure: String?
            do {
                let status = try await HTTPPost.send(body, to: url, headers: headers)
                if !(200..<300).contains(status) { failure = "HTTP \(status)" }
            } catch {
                failure = "\(error)"
            }
            let delivered = failure == nil ? now() : nil
            do {
                try await store.recordAlertDelivery(alertID: alert.id, attempts: attempt, deliveredAt: delivered, error: failure)
            } catch {
                logger.warning("budget alerts: cannot note a webhook attempt", metadata: ["alert_id": "\(alert.id)", "error": "\(error)"])
            }
            guard let failure else {
                metrics.alertWebhookCall("delivered")
                return
            }
            if attempt == settings.webhookAttempts {
                metrics.alertWebhookCall("gave_up")
                logger.error("budget alert webhook failed; giving up", metadata: [
                    "alert_id": "\(alert.id)", "attempts": "\(attempt)", "error": "\(failure)"])
                return
            }
            metrics.alertWebhookCall("failed")
            logger.warning("budget alert webhook failed; retrying", metadata: [
                "alert_id": "\(alert.id)", "attempt": "\(attempt)", "retry_in": "\(wait)", "error": "\(failure)"])
            do { try await Task.sleep(for: wait) } catch { return }  // shutdown: the claim runs out, a sweep resends
            wait = min(wait * 2, .seconds(300))
        }
    }

    /// The webhook's JSON body (docs/ALERTS.md).
    static func payload(_ alert: BudgetAlert) -> [UInt8] {
        let e = alert.event
        let object: JSONObject = [
            "type": .string("budget.threshold_crossed"),
            "alert_id": .number("\(alert.id)"),
            "user": .string(alert.userName),
            "month": .string(e.period.description),
            "limit_kind": .string(e.limit.rawValue),
            "threshold_percent": .number("\(e.thresholdPercent)"),
            "limit": amountJSON(e.limitValue, e.limit),
            "spent": amountJSON(e.spent, e.limit),
            "committed": amountJSON(e.committed, e.limit),
            "reason": .string(e.reason.rawValue),
            "fired_at": .string(ISO8601DateFormatter().string(from: alert.firedAt)),
        ]
        return JSONValue.object(object).encoded()
    }

    /// USD as an exact decimal string (no float rounding), tokens as a number.
    private static func amountJSON(_ value: Int64, _ kind: BudgetLimitKind) -> JSONValue {
        kind == .usd ? .string(amount(value, kind)) : .number("\(value)")
    }

    static func amount(_ value: Int64, _ kind: BudgetLimitKind) -> String {
        kind == .usd ? Money(picoUSD: value).formatted(minimumDecimals: 2, symbol: "") : "\(value)"
    }

    /// Hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`: the receiver recomputes it, and refuses old
    /// timestamps to stop replays.
    static func signature(_ body: [UInt8], timestamp: Int, secret: String) -> String {
        var message = Array("\(timestamp).".utf8)
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    private func began() { work.withLock { $0 += 1 } }
    private func ended() { work.withLock { $0 -= 1 } }

    /// Checks and webhook deliveries still running.
    var inFlight: Int { work.withLock { $0 } }
}

/// Runs ``BudgetAlerts/sweep()`` at start and every `interval`, until shutdown.
struct AlertSweeper: Service {
    let alerts: BudgetAlerts
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await alerts.sweep()
                do { try await Task.sleep(for: interval) } catch { break }
            }
        }
        alerts.stop()
    }
}
