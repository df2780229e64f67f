/// The server's view of the ledger: authenticate keys, reserve budget, checkpoint and settle streams.
///
/// This is the boundary between the server and storage. ``SQLiteUsageStore`` is the embedded default; a
/// shared backend (e.g. PostgreSQL, for several TokenMeter instances sharing budgets) implements the
/// same contract:
///
/// - `reserve` is atomic: the check of the remaining budget and the hold are one transaction, so two
///   concurrent reservations never both pass on money only one could have.
/// - `extend` raises an open reservation's hold with the same check, in one transaction: a stream's hold
///   grows ahead of the tokens it delivers, and never past what the limits leave free.
/// - A live reservation counts against its user's month as the larger of its hold and its last
///   checkpoint; settled usage counts in the UTC month its request ended.
/// - `settle` writes exactly one usage record per request id and releases the reservation in the same
///   transaction; a repeated settle returns the existing record and changes nothing.
/// - After a crash, the next open settles every open reservation as `interrupted` from its last
///   checkpoint.
///
/// Errors are ``LedgerError`` (or `CancellationError` where noted). Every method is async; all but
/// `settle` honour task cancellation.
public protocol UsageStore: Sendable {
    /// Resolves a presented API key (`tm_<prefix>_<secret>`) to its active owner, comparing the key's
    /// hash in constant time. Throws `.invalidAPIKey`, `.apiKeyRevoked` or `.userDisabled`.
    func authenticate(apiKey: String) async throws -> AuthenticatedKey

    /// Atomically checks `request.estimate` against the user's remaining monthly money and tokens and
    /// per-request cap, and holds it. Throws `.budgetExhausted` (with what is left),
    /// `.requestCapExceeded`, `.userDisabled`, `.apiKeyRevoked` or `.duplicateRequestID`.
    func reserve(_ request: ReservationRequest) async throws -> Reservation

    /// Like ``reserve(_:)``, but the estimate is worked out inside the same transaction from the user's
    /// budget status as it is at that moment: `planning` gets the status and returns the estimate to hold
    /// (replacing `request.estimate`) and a value for the caller (e.g. how many completion tokens it
    /// affords). One round trip instead of `remaining` then `reserve`, and the plan can never be based on
    /// a status that changed before the hold. An error thrown by `planning` aborts the reservation and
    /// is rethrown unchanged; the estimate is still checked against the limits and the per-request cap.
    /// `planning` runs on the database's writer: it must be quick and must not block.
    func reserve<Plan: Sendable>(
        _ request: ReservationRequest, planning: @escaping @Sendable (BudgetStatus) throws -> (UsageEstimate, Plan)
    ) async throws -> (reservation: Reservation, plan: Plan)

    /// Raises the hold of an open reservation, atomically with the check that the user's limits have room
    /// for the increase. `planning` gets the user's budget status as it is inside the transaction (this
    /// reservation's current hold included) and the reservation's current hold, and returns the new hold
    /// (never smaller in cost or tokens than the current one; equal changes nothing) and a value for the
    /// caller. The new hold is checked against the per-request cap and both monthly limits like a
    /// reservation: throws `.requestCapExceeded` or `.budgetExhausted` and holds nothing more. Also
    /// throws `.reservationNotOpen` (settled, or expired after a crash) and `.userDisabled`. An error
    /// thrown by `planning` aborts the extension and is rethrown unchanged. Returns the hold in force.
    /// See docs/LEDGER.md, "Hold life cycle", for where extensions sit between admission and settle.
    func extend<Plan: Sendable>(
        _ reservation: Reservation,
        planning: @escaping @Sendable (_ status: BudgetStatus, _ held: UsageEstimate) throws -> (UsageEstimate, Plan)
    ) async throws -> (held: UsageEstimate, plan: Plan)

    /// Records a stream's usage so far. Cheap: coalesced in memory to at most one database write per
    /// stream per checkpoint interval or token stride; returns whether this call wrote.
    @discardableResult
    func checkpoint(_ reservation: Reservation, usage: MeteredUsage) async throws -> CheckpointOutcome

    /// The first half of ``checkpoint(_:usage:)``, without waiting: offers `usage` to the in-memory coalescer and
    /// returns it when it is due for writing now (pass it to ``writeDueCheckpoint(_:usage:)``), or nil when it
    /// is held back. A streaming loop calls this on every delta and hands only due checkpoints to a writer task.
    func coalesceCheckpoint(_ reservation: Reservation, usage: MeteredUsage) throws -> MeteredUsage?

    /// Writes a checkpoint ``coalesceCheckpoint(_:usage:)`` found due; one that fails for any reason but a
    /// closed reservation is held back again for the next flush.
    func writeDueCheckpoint(_ reservation: Reservation, usage due: MeteredUsage) async throws

    /// Writes every checkpoint still held back by coalescing (call at shutdown or from a timer), so a
    /// crash loses no progress. Returns how many were written.
    @discardableResult
    func flushCheckpoints() async throws -> Int

    /// Writes the request's usage record with `usage` and `status` and releases its reservation, in one
    /// transaction. Idempotent on the request id: a retry returns the first record with
    /// `wasAlreadySettled == true`. Runs to completion even in a cancelled task, so the books close.
    func settle(_ reservation: Reservation, usage: MeteredUsage, status: UsageStatus) async throws -> SettleOutcome

    /// The user's budget and what is left of it in the current UTC month (settled plus held).
    func remaining(userID: Int64) async throws -> BudgetStatus

    /// The user's settled usage in `period`, in total and per model.
    func usage(userID: Int64, period: BillingPeriod) async throws -> UsageSummary
}

/// Everything the gateway needs of a ledger: accounting (``UsageStore``), users, keys and budgets
/// (``LedgerAdministration``), monthly reports (``UsageReporting``) and copies (``LedgerTransfer``), plus its health
/// and its end.
/// ``SQLiteUsageStore`` is the embedded implementation, ``PostgresUsageStore`` the one several gateways share.
public protocol GatewayLedger: UsageStore, LedgerAdministration, UsageReporting, LedgerTransfer, BudgetAlertLog {
    /// The schema version (the last applied migration); reading it shows the ledger answers.
    func schemaVersion() async throws -> String?

    /// Ends this process's use of the ledger: writes held-back checkpoints and releases what it holds. Any
    /// later call fails.
    func close() async throws
}

