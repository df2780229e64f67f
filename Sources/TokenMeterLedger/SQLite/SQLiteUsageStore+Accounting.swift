import Foundation
import GRDB
import TokenMeterMoney

extension SQLiteUsageStore: UsageStore, CoalescingCheckpoints, CachedAuthentication {
    public func authenticate(apiKey: String) async throws -> AuthenticatedKey {
        try await cachedAuthenticate(apiKey: apiKey)
    }

    func readAuthentication(prefix: String, keySHA256 presentedHash: Data) async throws -> AuthenticatedKey {
        try await read { db in
            guard let key = try APIKeyRow.filter(APIKeyRow.Columns.prefix == prefix).fetchOne(db),
                  APIKeyFormat.constantTimeEqual(key.keySHA256, presentedHash) else { throw LedgerError.invalidAPIKey }
            guard key.revokedAt == nil else { throw LedgerError.apiKeyRevoked(prefix: prefix) }
            let user = try LedgerQueries.user(db, id: key.userID).user()
            guard user.status == .active else { throw LedgerError.userDisabled(user.name) }
            return AuthenticatedKey(user: user, apiKeyID: key.id!, prefix: prefix,
                                    budget: try BudgetRow.budget(ofUser: user.id, db))
        }
    }

    func withAuthenticationCache<R>(_ body: (inout AuthenticationCache) -> R) -> R {
        authentication.withLock { body(&$0) }
    }

    public func reserve(_ request: ReservationRequest) async throws -> Reservation {
        try await reserve(request, planning: { _ in (request.estimate, ()) }).reservation
    }

    public func reserve<Plan: Sendable>(
        _ request: ReservationRequest, planning: @escaping @Sendable (BudgetStatus) throws -> (UsageEstimate, Plan)
    ) async throws -> (reservation: Reservation, plan: Plan) {
        guard (1...200).contains(request.requestID.utf8.count) else {
            throw LedgerError.invalidUsage("a request id must be 1 to 200 bytes long (got \(request.requestID.utf8.count))")
        }
        let now = configuration.now()
        let period = BillingPeriod(containing: now)
        let outcome: (Reservation, Plan)
        do {
            outcome = try await batchedWrite { db in
            let user = try LedgerQueries.user(db, id: request.userID).user()
            guard user.status == .active else { throw LedgerError.userDisabled(user.name) }
            guard let key = try LedgerQueries.cachedOne(APIKeyRow.self, db, "SELECT * FROM api_keys WHERE id = ?", [request.apiKeyID])
            else { throw LedgerError.invalidAPIKey }
            guard key.userID == user.id else { throw LedgerError.apiKeyNotOwned(prefix: key.prefix, user: user.name) }
            guard key.revokedAt == nil else { throw LedgerError.apiKeyRevoked(prefix: key.prefix) }

            let budget = try BudgetRow.budget(ofUser: user.id, db)
            let status = try LedgerQueries.budgetStatus(db, userID: user.id, budget: budget, period: period)
            let planned: (UsageEstimate, Plan)
            do { planned = try planning(status) } catch { throw PlanningRefusal(underlying: error) }
            var request = request
            request.estimate = planned.0
            try BudgetFit.checkAdmission(request.estimate, in: status, userName: user.name)
            if try LedgerQueries.cachedExists(db, """
                SELECT EXISTS (SELECT 1 FROM usage_records WHERE request_id = ?1)
                    OR EXISTS (SELECT 1 FROM reservations WHERE request_id = ?1)
                """, [request.requestID]) {
                throw LedgerError.duplicateRequestID(request.requestID)
            }
            var row = ReservationRow(request: request, startedAt: now.ledgerMilliseconds)
            try row.insertPrepared(db)
            _ = try LedgerQueries.cachedExecute(db, "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                                                [now.ledgerMilliseconds, key.id])
            return (row.reservation, planned.1)
            }
        } catch let refusal as PlanningRefusal {
            throw refusal.underlying
        }
        coalescer.withLock { $0.reserved(outcome.0.streamID, at: .now) }
        return outcome
    }

    public func extend<Plan: Sendable>(
        _ reservation: Reservation,
        planning: @escaping @Sendable (_ status: BudgetStatus, _ held: UsageEstimate) throws -> (UsageEstimate, Plan)
    ) async throws -> (held: UsageEstimate, plan: Plan) {
        let period = BillingPeriod(containing: configuration.now())
        do {
            // Joins the group commit with the reservations, checkpoints and settles of other streams: an
            // extension is one more statement in a transaction that is being written anyway.
            return try await batchedWrite { db in
                guard let open = try LedgerQueries.cachedOne(ReservationRow.self, db, "SELECT * FROM reservations WHERE id = ?",
                                                             [reservation.id]),
                      open.requestID == reservation.requestID else {
                    throw LedgerError.reservationNotOpen(requestID: reservation.requestID)
                }
                let user = try LedgerQueries.user(db, id: open.userID).user()
                guard user.status == .active else { throw LedgerError.userDisabled(user.name) }
                let budget = try BudgetRow.budget(ofUser: user.id, db)
                let status = try LedgerQueries.budgetStatus(db, userID: user.id, budget: budget, period: period)
                let held = UsageEstimate(cost: Money(picoUSD: open.heldPicoUSD), tokens: open.heldTokens)
                let planned: (UsageEstimate, Plan)
                do { planned = try planning(status, held) } catch { throw PlanningRefusal(underlying: error) }
                let wanted = planned.0
                let spent = open.checkpoint
                guard try BudgetFit.checkExtension(from: held, to: wanted, spentCost: spent.cost, spentTokens: spent.billedTokens,
                                                   in: status, userName: user.name) else { return (held, planned.1) }
                _ = try LedgerQueries.cachedExecute(db, "UPDATE reservations SET held_pusd = ?, held_tokens = ? WHERE id = ?",
                                                    [wanted.cost.picoUSD, wanted.tokens, open.id])
                return (wanted, planned.1)
            }
        } catch let refusal as PlanningRefusal {
            throw refusal.underlying
        }
    }

    /// Writes one checkpoint now (internal for tests: the race it guards against cannot be timed from outside).
    /// The reservation must still be the request's: a deleted reservation's id goes to the next one (SQLite
    /// reuses the largest rowid), and a late checkpoint must not land in that one.
    func writeCheckpoint(reservationID: Int64, requestID: String, usage: MeteredUsage) async throws {
        let at = configuration.now().ledgerMilliseconds
        // Joins the group commit: checkpoints and settles share transactions with the reservations that
        // arrive meanwhile instead of queueing one transaction each ahead of them.
        try await batchedWrite { db in
            // MAX keeps checkpoint_at ≥ started_at (the schema's CHECK) if the wall clock stepped back.
            // A stream's completion only grows, so a checkpoint with fewer completion tokens than the ledger
            // holds is an older one that lost a race (a flush writing what it took from the coalescer while the
            // stream's own newer checkpoint went through first): it must not overwrite the newer one.
            let changed = try LedgerQueries.cachedExecute(db, Self.checkpointUpdate,
                StatementArguments([at] + UsageColumns.values(usage) + [reservationID, requestID, usage.completionTokens]))
            guard changed == 1 else {
                if try LedgerQueries.cachedExists(db, "SELECT EXISTS (SELECT 1 FROM reservations WHERE id = ? AND request_id = ?)",
                                                  [reservationID, requestID]) {
                    return  // superseded: the ledger already has a newer checkpoint
                }
                throw LedgerError.reservationNotOpen(requestID: requestID)
            }
        }
    }

    /// A stream's checkpoint (see `writeCheckpoint`); the assignments are the code-defined usage columns.
    private static let checkpointUpdate: String = {
        let assignments = UsageColumns.names.map { "\($0) = ?" }.joined(separator: ", ")
        return "UPDATE reservations SET checkpoint_at = MAX(?, started_at), \(assignments) WHERE id = ? AND request_id = ? AND completion_tokens <= ?"
    }()

    public func settle(_ reservation: Reservation, usage: MeteredUsage, status: UsageStatus) async throws -> SettleOutcome {
        try usage.validate()
        let endedAt = configuration.now().ledgerMilliseconds
        // Run in an unstructured task: a cancelled request (client gone) must still close its books. It joins
        // the group commit, like checkpoints (see `writeCheckpoint`).
        let outcome = try await Task {
            try await self.batchedWrite { db in
                if let existing = try LedgerQueries.cachedOne(UsageRecordRow.self, db,
                                                              "SELECT * FROM usage_records WHERE request_id = ?", [reservation.requestID]) {
                    return SettleOutcome(record: existing.record, wasAlreadySettled: true)
                }
                guard let open = try LedgerQueries.cachedOne(ReservationRow.self, db, "SELECT * FROM reservations WHERE id = ?", [reservation.id]),
                      open.requestID == reservation.requestID else {
                    throw LedgerError.reservationNotOpen(requestID: reservation.requestID)
                }
                var record = UsageRecordRow(settling: open, usage: usage, status: status, endedAt: endedAt)
                try record.insertPrepared(db)
                _ = try LedgerQueries.cachedExecute(db, "DELETE FROM reservations WHERE id = ?", [open.id])
                return SettleOutcome(record: record.record, wasAlreadySettled: false)
            }
        }.value
        coalescer.withLock { $0.ended(reservation.streamID) }
        return outcome
    }

    public func remaining(userID: Int64) async throws -> BudgetStatus {
        let period = BillingPeriod(containing: configuration.now())
        return try await read { db in
            _ = try LedgerQueries.user(db, id: userID)
            return try LedgerQueries.budgetStatus(db, userID: userID, budget: BudgetRow.budget(ofUser: userID, db),
                                                  period: period)
        }
    }

    public func usage(userID: Int64, period: BillingPeriod) async throws -> UsageSummary {
        try await read { db in
            _ = try LedgerQueries.user(db, id: userID)
            let rows = try Row.fetchAll(db, sql: """
                SELECT model, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion,
                       SUM(billed_tokens) AS billed, SUM(cost_pusd) AS pusd
                FROM usage_records
                WHERE user_id = ? AND ended_at >= ? AND ended_at < ?
                GROUP BY model ORDER BY model
                """, arguments: [userID, period.start.ledgerMilliseconds, period.end.ledgerMilliseconds])
            let models = rows.map { r in
                UsageSummary.ModelUsage(model: r["model"], requests: r["requests"], promptTokens: r["prompt"],
                                        completionTokens: r["completion"], billedTokens: r["billed"],
                                        cost: Money(picoUSD: r["pusd"]))
            }
            return UsageSummary(userID: userID, period: period, models: models)
        }
    }
}

extension Reservation {
    /// The reservation's key in the checkpoint coalescer.
    var streamID: CheckpointCoalescer.StreamID { .init(reservationID: id, requestID: requestID) }
}
