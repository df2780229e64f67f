import Foundation
import PostgresNIO
import TokenMeterMoney

extension PostgresUsageStore: UsageStore, CoalescingCheckpoints, CachedAuthentication {
    public func authenticate(apiKey: String) async throws -> AuthenticatedKey {
        try await cachedAuthenticate(apiKey: apiKey)
    }

    func withAuthenticationCache<R>(_ body: (inout AuthenticationCache) -> R) -> R {
        authentication.withLock { body(&$0) }
    }

    func readAuthentication(prefix: String, keySHA256 presentedHash: Data) async throws -> AuthenticatedKey {
        try await read { c in
            var bindings = PostgresBindings()
            bindings.append(prefix)
            let rows = try await c.execute(Prepared<Statements.Authenticate>(bindings: bindings), logger: self.logger)
            for try await row in rows {
                let (keyID, hash, revoked, userID, name, status, createdAt, limit, tokenLimit, cap) = try row.decode(
                    (Int64, Data, Bool, Int64, String, String, Int64, Int64?, Int64?, Int64?).self)
                guard APIKeyFormat.constantTimeEqual(hash, presentedHash) else { throw LedgerError.invalidAPIKey }
                guard !revoked else { throw LedgerError.apiKeyRevoked(prefix: prefix) }
                let user = try Self.user(id: userID, name: name, status: status, createdAt: createdAt)
                guard user.status == .active else { throw LedgerError.userDisabled(user.name) }
                return AuthenticatedKey(user: user, apiKeyID: keyID, prefix: prefix,
                                        budget: Self.budget(limit, tokenLimit, cap))
            }
            throw LedgerError.invalidAPIKey
        }
    }

    public func reserve(_ request: ReservationRequest) async throws -> Reservation {
        try await reserve(request, planning: { _ in (request.estimate, ()) }).reservation
    }

    public func reserve<Plan: Sendable>(
        _ request: ReservationRequest, planning: @escaping @Sendable (BudgetStatus) throws -> (UsageEstimate, Plan)
    ) async throws -> (reservation: Reservation, plan: Plan) {
        do {
            return try await reserveOnce(request, planning: planning)
        } catch is InstanceExpired {
            // Others took this instance for dead (the database was away longer than the expiry) and removed its row
            // before the next heartbeat could re-register it: register now and try once more.
            try await heartbeat()
            return try await reserveOnce(request, planning: planning)
        }
    }

    /// This instance's row is gone (the insert's foreign key to `instances` failed).
    struct InstanceExpired: Error {}

    private func reserveOnce<Plan: Sendable>(
        _ request: ReservationRequest, planning: @escaping @Sendable (BudgetStatus) throws -> (UsageEstimate, Plan)
    ) async throws -> (reservation: Reservation, plan: Plan) {
        guard (1...200).contains(request.requestID.utf8.count) else {
            throw LedgerError.invalidUsage("a request id must be 1 to 200 bytes long (got \(request.requestID.utf8.count))")
        }
        let now = configuration.now()
        let period = BillingPeriod(containing: now)
        let instanceID = instance.withLock { $0 }
        let outcome: (Reservation, Plan)
        do {
            outcome = try await pipelinedWrite { c in
                let locked = try await Self.lockStatus(c, userID: request.userID, period: period, keyID: request.apiKeyID,
                                                       requestID: request.requestID, reservationID: nil, logger: self.logger)
                guard locked.user.status == .active else { throw LedgerError.userDisabled(locked.user.name) }
                guard let key = locked.key else { throw LedgerError.invalidAPIKey }
                guard key.userID == locked.user.id else {
                    throw LedgerError.apiKeyNotOwned(prefix: key.prefix, user: locked.user.name)
                }
                guard !key.revoked else { throw LedgerError.apiKeyRevoked(prefix: key.prefix) }
                let planned: (UsageEstimate, Plan)
                do { planned = try planning(locked.status) } catch { throw PlanningRefusal(underlying: error) }
                let estimate = planned.0
                try BudgetFit.checkAdmission(estimate, in: locked.status, userName: locked.user.name)
                if locked.requestInUse { throw LedgerError.duplicateRequestID(request.requestID) }
                var b = PostgresBindings()
                b.append(request.requestID)
                b.append(request.userID)
                b.append(request.apiKeyID)
                b.append(request.model)
                b.append(request.upstream)
                b.append(now.ledgerMilliseconds)
                b.append(estimate.cost.picoUSD)
                b.append(estimate.tokens)
                b.append(instanceID)
                let plan = planned.1
                return .write(PostgresQuery(unsafeSQL: Statements.Reserve.sql, binds: b), decode: { result in
                    guard let id = try result.rows.first?.decode(Int64.self) else {
                        throw LedgerError.storage("inserting a reservation returned no id")
                    }
                    let reservation = Reservation(
                        id: id, requestID: request.requestID, userID: request.userID, apiKeyID: request.apiKeyID,
                        model: request.model, upstream: request.upstream,
                        startedAt: Date(ledgerMilliseconds: now.ledgerMilliseconds), held: estimate)
                    return (reservation, plan)
                }, refusal: { error in
                    switch (error.serverInfo?[.sqlState], error.serverInfo?[.constraintName]) {
                    // Another instance reserved the same request id meanwhile; the unique index let one through.
                    case ("23505", _): LedgerError.duplicateRequestID(request.requestID)
                    case ("23503", "reservations_instance_id_fkey") where instanceID != nil: InstanceExpired()
                    default: nil
                    }
                })
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
            return try await pipelinedWrite { c in
                let locked = try await Self.lockStatus(c, userID: reservation.userID, period: period, keyID: nil,
                                                       requestID: nil, reservationID: reservation.id, logger: self.logger)
                guard let open = locked.reservation else {
                    throw LedgerError.reservationNotOpen(requestID: reservation.requestID)
                }
                guard locked.user.status == .active else { throw LedgerError.userDisabled(locked.user.name) }
                let held = open.held
                let planned: (UsageEstimate, Plan)
                do { planned = try planning(locked.status, held) } catch { throw PlanningRefusal(underlying: error) }
                let wanted = planned.0
                guard try BudgetFit.checkExtension(from: held, to: wanted, spentCost: open.spentCost, spentTokens: open.spentTokens,
                                                   in: locked.status, userName: locked.user.name) else { return .done((held, planned.1)) }
                var b = PostgresBindings()
                b.append(reservation.id)
                b.append(wanted.cost.picoUSD)
                b.append(wanted.tokens)
                let plan = planned.1
                return .write(PostgresQuery(unsafeSQL: Statements.Extend.sql, binds: b), decode: { _ in (wanted, plan) })
            }
        } catch let refusal as PlanningRefusal {
            throw refusal.underlying
        }
    }

    /// Writes one checkpoint now: one statement, which locks the user's hold row before the reservation's.
    func writeCheckpoint(reservationID: Int64, requestID: String, usage: MeteredUsage) async throws {
        var b = PostgresBindings()
        b.append(reservationID)
        b.append(requestID)
        b.append(configuration.now().ledgerMilliseconds)
        b.append(usage: usage)
        let bindings = b
        let result = try await read { c in
            let rows = try await c.execute(Prepared<Statements.Checkpoint>(bindings: bindings), logger: self.logger)
            for try await row in rows { return try row.decode(Int32.self) }
            return -1
        }
        if result < 0 { throw LedgerError.reservationNotOpen(requestID: requestID) }
    }

    public func settle(_ reservation: Reservation, usage: MeteredUsage, status: UsageStatus) async throws -> SettleOutcome {
        try usage.validate()
        var b = PostgresBindings()
        b.append(reservation.id)
        b.append(reservation.requestID)
        b.append(configuration.now().ledgerMilliseconds)
        b.append(status.rawValue)
        b.append(usage: usage)
        let bindings = b
        // An unstructured task: a cancelled request (client gone) must still close its books.
        let outcome = try await Task {
            try await self.read { c in
                do {
                    let rows = try await c.execute(Prepared<Statements.Settle>(bindings: bindings), logger: self.logger)
                    for try await row in rows {
                        let random = row.makeRandomAccess()
                        let already = try random[0].decode(Bool.self)
                        return SettleOutcome(record: try Self.decodeRecord(random, from: 1), wasAlreadySettled: already)
                    }
                } catch let e as PSQLError where e.serverInfo?[.sqlState] == "TM001" {
                    throw LedgerError.reservationNotOpen(requestID: reservation.requestID)
                }
                throw LedgerError.storage("settling \(reservation.requestID) returned no record")
            }
        }.value
        coalescer.withLock { $0.ended(reservation.streamID) }
        return outcome
    }

    public func remaining(userID: Int64) async throws -> BudgetStatus {
        let period = BillingPeriod(containing: configuration.now())
        return try await read { c in
            let rows = try await c.query("""
                SELECT u.id, b.monthly_limit_pusd, b.monthly_token_limit, b.max_request_pusd,
                       h.live, h.held_pusd, h.held_tokens,
                       m.request_count, m.billed_tokens, m.cost_pusd, m.estimated_pusd
                FROM users u
                LEFT JOIN budgets b ON b.user_id = u.id
                LEFT JOIN user_holds h ON h.user_id = u.id
                LEFT JOIN monthly_usage m ON m.user_id = u.id AND m.period = \(period.description)
                WHERE u.id = \(userID)
                """, logger: self.logger)
            for try await row in rows {
                let (_, limit, tokenLimit, cap, live, heldPUSD, heldTokens, requests, tokens, pusd, estimated) = try row.decode(
                    (Int64, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?).self)
                return BudgetStatus(
                    userID: userID, budget: Self.budget(limit, tokenLimit, cap), period: period,
                    settledCost: Money(picoUSD: pusd ?? 0), settledTokens: tokens ?? 0, settledRequests: requests ?? 0,
                    heldCost: Money(picoUSD: heldPUSD ?? 0), heldTokens: heldTokens ?? 0, liveReservations: live ?? 0,
                    settledEstimatedCost: Money(picoUSD: estimated ?? 0))
            }
            throw LedgerError.userIDNotFound(userID)
        }
    }

    public func usage(userID: Int64, period: BillingPeriod) async throws -> UsageSummary {
        try await read { c in
            guard try await Self.userExists(c, id: userID, logger: self.logger) else { throw LedgerError.userIDNotFound(userID) }
            let rows = try await c.query("""
                SELECT model, COUNT(*)::bigint, SUM(prompt_tokens)::bigint, SUM(completion_tokens)::bigint,
                       SUM(billed_tokens)::bigint, SUM(cost_pusd)::bigint
                FROM usage_records
                WHERE user_id = \(userID) AND ended_at >= \(period.start.ledgerMilliseconds)
                  AND ended_at < \(period.end.ledgerMilliseconds)
                GROUP BY model ORDER BY model
                """, logger: self.logger)
            var models: [UsageSummary.ModelUsage] = []
            for try await (model, requests, prompt, completion, billed, pusd) in rows.decode(
                (String, Int64, Int64, Int64, Int64, Int64).self) {
                models.append(.init(model: model, requests: requests, promptTokens: prompt, completionTokens: completion,
                                    billedTokens: billed, cost: Money(picoUSD: pusd)))
            }
            return UsageSummary(userID: userID, period: period, models: models)
        }
    }

    // MARK: - Rows

    /// What `tokenmeter_lock_status` returns, with the user's row locked until the transaction ends.
    struct LockedStatus {
        struct Key { var userID: Int64; var prefix: String; var revoked: Bool }
        struct Open { var held: UsageEstimate; var spentCost: Money; var spentTokens: Int64 }
        var user: User
        var status: BudgetStatus
        var key: Key?
        var requestInUse: Bool
        var reservation: Open?
    }

    static func lockStatus(_ c: PostgresConnection, userID: Int64, period: BillingPeriod, keyID: Int64?, requestID: String?,
                           reservationID: Int64?, logger: Logger) async throws -> LockedStatus {
        var b = PostgresBindings()
        b.append(userID)
        b.append(period.description)
        b.append(keyID)
        b.append(requestID)
        b.append(reservationID)
        let rows = try await c.execute(Prepared<Statements.LockStatus>(bindings: b), logger: logger)
        for try await row in rows {
            let r = row.makeRandomAccess()
            let user = try Self.user(id: userID, name: r[0].decode(String.self), status: r[1].decode(String.self),
                                     createdAt: r[2].decode(Int64.self))
            let budget = Self.budget(try r[3].decode(Int64?.self), try r[4].decode(Int64?.self), try r[5].decode(Int64?.self))
            let status = BudgetStatus(
                userID: userID, budget: budget, period: period,
                settledCost: Money(picoUSD: try r[11].decode(Int64?.self) ?? 0),
                settledTokens: try r[10].decode(Int64?.self) ?? 0, settledRequests: try r[9].decode(Int64?.self) ?? 0,
                heldCost: Money(picoUSD: try r[7].decode(Int64.self)), heldTokens: try r[8].decode(Int64.self),
                liveReservations: try r[6].decode(Int64.self),
                settledEstimatedCost: Money(picoUSD: try r[12].decode(Int64?.self) ?? 0))
            var key: LockedStatus.Key?
            if let owner = try r[13].decode(Int64?.self) {
                key = .init(userID: owner, prefix: try r[14].decode(String.self), revoked: try r[15].decode(Bool.self))
            }
            var open: LockedStatus.Open?
            if let heldPUSD = try r[17].decode(Int64?.self) {
                open = .init(held: UsageEstimate(cost: Money(picoUSD: heldPUSD), tokens: try r[18].decode(Int64.self)),
                             spentCost: Money(picoUSD: try r[19].decode(Int64.self)), spentTokens: try r[20].decode(Int64.self))
            }
            return LockedStatus(user: user, status: status, key: key, requestInUse: try r[16].decode(Bool.self),
                                reservation: open)
        }
        throw LedgerError.userIDNotFound(userID)
    }

    /// A usage record from ``PostgresMigrations/recordColumns``, starting at column `first`.
    static func decodeRecord(_ r: PostgresRandomAccessRow, from first: Int) throws -> UsageRecord {
        func int(_ i: Int) throws -> Int64 { try r[first + i].decode(Int64.self) }
        func optional(_ i: Int) throws -> Int64? { try r[first + i].decode(Int64?.self) }
        func text(_ i: Int) throws -> String { try r[first + i].decode(String.self) }
        let statusText = try text(8)
        guard let status = UsageStatus(rawValue: statusText) else {
            throw LedgerError.storage("usage_records.status holds '\(statusText)'")
        }
        let billedText = try text(16)
        guard let billedBy = BilledCount(rawValue: billedText) else {
            throw LedgerError.storage("billed_by holds '\(billedText)'")
        }
        var provider: ProviderUsage?
        if let p = try optional(12), let c = try optional(13) {
            provider = ProviderUsage(promptTokens: p, completionTokens: c, cachedTokens: try optional(14),
                                     reasoningTokens: try optional(15))
        }
        var usage = MeteredUsage(promptTokens: try int(10), completionTokens: try int(11), provider: provider,
                                 billedBy: billedBy, cost: Money(picoUSD: try int(18)))
        usage.estimatedCompletionTokens = try int(19)
        usage.estimatedCost = Money(picoUSD: try int(20))
        return UsageRecord(id: try int(0), requestID: try text(1), userID: try int(2), apiKeyID: try int(3),
                           model: try text(4), upstream: try text(5), startedAt: Date(ledgerMilliseconds: try int(6)),
                           endedAt: Date(ledgerMilliseconds: try int(7)), usage: usage, status: status,
                           overrun: Money(picoUSD: try int(9)))
    }

    static func user(id: Int64, name: String, status: String, createdAt: Int64) throws(LedgerError) -> User {
        guard let status = UserStatus(rawValue: status) else { throw .storage("users row \(id) has status '\(status)'") }
        return User(id: id, name: name, status: status, createdAt: Date(ledgerMilliseconds: createdAt))
    }

    static func budget(_ limit: Int64?, _ tokenLimit: Int64?, _ cap: Int64?) -> Budget {
        Budget(monthlyLimit: limit.map(Money.init(picoUSD:)), monthlyTokenLimit: tokenLimit,
               maxRequestCost: cap.map(Money.init(picoUSD:)))
    }

    static func userExists(_ c: PostgresConnection, id: Int64, logger: Logger) async throws -> Bool {
        for try await _ in try await c.query("SELECT 1 FROM users WHERE id = \(id)", logger: logger) { return true }
        return false
    }
}
