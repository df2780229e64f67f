import Foundation
import Synchronization
import Logging
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterLedger
import TokenMeterTokenizer

extension Gateway {
    /// Pre-flight for a validated request: resolves the model and its upstream, counts the prompt with the
    /// chat rule, checks the context window, works out how many completion tokens the budget pays for,
    /// clamps the output cap sent upstream to it, reserves prompt + allowance in the ledger, and starts the
    /// upstream request.
    ///
    /// Returns the admitted request with its upstream stream already started (see below for when it starts
    /// before the reservation commits) and when it started.
    ///
    /// Throws 404 `model_not_found`, 400 `model_not_priced`, `unsupported_content_part` or `context_length_exceeded`,
    /// 429 `insufficient_quota`.
    func admit(_ intake: ChatIntake, key: AuthenticatedKey, requestID: String, logger: Logger) async throws(GatewayError)
        -> (AdmittedRequest, ChatStream, ContinuousClock.Instant) {
        let model = try resolve(intake.model)
        guard let upstream = configuration.upstream(forModel: intake.model) else {
            throw GatewayError(.notFound, "No upstream is configured for the model `\(intake.model)`.",
                               param: "model", code: "model_not_found")
        }
        // Which API the upstream is called with: a Responses request goes to an upstream's own Responses API
        // when it has one, else it is translated to chat completions, which must be able to carry all of it.
        let native = intake.responses != nil && upstream.responses == .native
        if let responses = intake.responses, !native {
            if model.mode == "responses" {
                throw GatewayError(.badRequest, "The model `\(intake.model)` is served only on the Responses API, and its upstream "
                    + "`\(upstream.name)` speaks only chat completions (an upstream that speaks it is configured with "
                    + "responses: native).", param: "model", code: "model_not_supported")
            }
            if let (param, reason) = responses.untranslatable {
                throw GatewayError(.badRequest, "'\(param)' cannot be served: the upstream for `\(intake.model)` speaks only chat "
                    + "completions, and \(reason). Leave it out, or route the model to an upstream that speaks the Responses API.",
                    param: param, code: "unsupported_parameter")
            }
        } else if intake.responses == nil, model.mode == "responses" {
            throw GatewayError(.badRequest, "The model `\(intake.model)` is only supported in v1/responses and not in "
                + "v1/chat/completions.", param: "model", code: "model_not_supported")
        }
        // A Messages request goes to an Anthropic upstream as it is, else through its chat translation; a chat or
        // Responses request goes to an Anthropic upstream translated into a Messages request.
        let anthropic = upstream.provider == .anthropic
        if let messages = intake.messages, !anthropic, let field = messages.untranslatable {
            throw GatewayError(.badRequest, "'\(field.param)' cannot be served: the upstream for `\(intake.model)` is not Anthropic, and "
                + "\(field.reason). Leave it out, or route the model to an Anthropic upstream.", param: field.param, code: "unsupported_parameter")
        }
        let target = anthropic ? upstream.anthropicUpstream : native ? upstream.responsesUpstream : upstream.clientUpstream
        // Anthropic bills a thinking request's whole thinking as output, more than it streams: held like hidden output.
        let hiddenOutput = model.hiddenOutput || intake.messages?.thinks == true
        // A model the catalog cannot price is never served: it would be billed $0 for work the provider charges.
        // A free model says so with a zero price.
        guard let price = try? model.billingPrice() else {
            throw GatewayError(.badRequest, "The model `\(intake.model)` has no price in TokenMeter's catalog, so its use "
                + "cannot be billed; the operator must add one (a free model is declared with \"price\": "
                + "{\"input\": \"0\", \"output\": \"0\"}).", param: "model", code: "model_not_priced")
        }
        let (encoding, promptTokens) = try countPrompt(intake, model: model)
        switch model.contextOverflow(promptTokens: promptTokens, outputTokens: intake.counted.maxOutputTokens ?? 0) {
        case nil:
            break
        case .inputTooLong(_, let maxInput)?:
            throw GatewayError(.badRequest, "This model's maximum input length is \(maxInput) tokens. However, your messages "
                + "resulted in \(promptTokens) tokens. Please reduce the length of the messages.",
                param: "messages", code: "context_length_exceeded")
        case .contextExceeded(_, _, let window)?:
            let detail = intake.counted.maxOutputTokens.map {
                "you requested \(promptTokens + $0) tokens (\(promptTokens) in the messages, \($0) in the completion)"
            } ?? "your messages resulted in \(promptTokens) tokens"
            throw GatewayError(.badRequest, "This model's maximum context length is \(window) tokens. "
                + "However, \(detail). Please reduce the length of the messages or completion.",
                param: "messages", code: "context_length_exceeded")
        }
        if model.maxOutputTokens > 0, let asked = intake.counted.maxOutputTokens, asked > model.maxOutputTokens {
            throw .badRequest("max_tokens is too large: \(asked). This model supports at most \(model.maxOutputTokens) completion tokens.",
                              param: "max_tokens", code: "invalid_value")
        }
        // The hold is sized at the asked tier's prices (`auto` and `default` are the standard ones); a tier the
        // catalog cannot price is refused rather than billed at another tier's price.
        let askedTier = intake.serviceTier.flatMap { $0 == "auto" || $0 == ModelPrice.standardServiceTier ? nil : $0 }
        if let askedTier, price.rates(forPromptTokens: promptTokens, serviceTier: askedTier) == nil {
            throw GatewayError(.badRequest, "The service tier `\(askedTier)` has no price for `\(intake.model)` in TokenMeter's "
                + "catalog, so its use cannot be billed; leave service_tier out or use one the catalog prices.",
                param: "service_tier", code: "invalid_value")
        }
        let preflight = Preflight(price: price, promptTokens: promptTokens, serviceTier: askedTier)
        let asked = intake.counted.maxOutputTokens
        let limited = key.budget.monthlyLimit != nil || key.budget.monthlyTokenLimit != nil || key.budget.maxRequestCost != nil
        // A hidden-output model's cap is the only guard on what it spends, so under a budget a request that sets
        // none gets the configured default instead of the model's whole maximum output.
        let cappedAsk = asked ?? (hiddenOutput && limited ? configuration.holds.hiddenOutputDefaultCap : nil)
        let capWithoutBudget = Self.outputCap(allowance: .max, asked: cappedAsk, model: model, promptTokens: promptTokens)

        // With `early_upstream_start`, when the budget cannot be what limits the output cap, the cap is known
        // before the reservation, and the upstream request starts now, while the reservation commits: the
        // connection, the headers and the body but its last byte go out meanwhile, and the last byte once the
        // reservation is durable. The upstream cannot parse, run or bill a request it has not received whole, so
        // a refused reservation cancels a request that never happened (its connection closes unfinished), and no
        // byte reaches the client before the reservation is durable (the caller reads the first event only after
        // this returns). Otherwise the allowance comes from the reservation's own transaction first. Never for
        // a hidden-output model under a budget: its cap is what it holds, known only then.
        let early = configuration.earlyUpstreamStart && !(hiddenOutput && limited)
            && budgetCannotLimit(key: key, preflight: preflight, capWithoutBudget: capWithoutBudget)
        var body: ChatRequest?
        var stream: ChatStream?
        var upstreamStarted = ContinuousClock.now
        if early {
            body = try upstreamBody(intake, native: native, cap: capWithoutBudget, asked: asked, model: model, upstream: upstream)
            stream = client.stream(body!, to: target, timeouts: upstream.timeouts, holdingLastByte: true)
        }
        // The hold is worked out from the budget status read inside the reservation's own transaction: one
        // ledger round trip, and the hold is sized on exactly the spend it is checked against (docs/LEDGER.md,
        // "Holds").
        let reservation: Reservation
        let plan: OutputPlan
        let budget: BudgetStatus
        let hints = budgetHints
        let policy = configuration.holds
        let exhausted = Mutex(Set<BudgetLimitKind>())
        do {
            (reservation, (plan, budget)) = try await store.reserve(ReservationRequest(
                requestID: requestID, userID: key.user.id, apiKeyID: key.apiKeyID, model: intake.model,
                upstream: upstream.name, estimate: UsageEstimate(cost: .zero, tokens: 0))
            ) { status in
                let free: Int
                do { free = try preflight.budgetAllowance(status: status) } catch {
                    exhausted.withLock { $0 = preflight.exhaustedAtAdmission(status: status) }
                    throw error
                }
                let cap = Self.outputCap(allowance: free, asked: cappedAsk, model: model, promptTokens: promptTokens)
                let plan: OutputPlan
                if hiddenOutput {
                    let held = cap.map { policy.hiddenOutputHold(free: free, cap: $0) }
                    plan = OutputPlan(grant: held ?? .max, ceiling: held ?? .max, upstreamCap: held)
                } else {
                    let ceiling = min(cap ?? .max, early ? capWithoutBudget ?? .max : .max)
                    plan = OutputPlan(grant: policy.slice(free: free, wanted: ceiling, streams: Int(status.liveReservations) + 1),
                                      ceiling: ceiling,
                                      upstreamCap: early ? capWithoutBudget : cap)
                }
                let hold = preflight.hold(completionTokens: plan.grant)
                hints.record(status, holding: hold)
                return (hold, (plan, status))
            }
        } catch {
            stream?.cancel()
            alerts.limitReached(userID: key.user.id, exhausted.withLock { $0 })
            if let error = error as? GatewayError { throw error }
            throw Self.ledgerFailure(error)
        }
        let upstreamCap = plan.upstreamCap
        if let stream {
            stream.releaseLastByte()  // the reservation is durable: the request may complete
        } else {
            upstreamStarted = .now
            body = try upstreamBody(intake, native: native, cap: upstreamCap, asked: asked, model: model, upstream: upstream)
            stream = client.stream(body!, to: target, timeouts: upstream.timeouts)
        }
        logger.info("admitted", metadata: [
            "request_id": "\(requestID)", "user": "\(key.user.name)", "key": "tm_\(key.prefix)_…", "model": "\(intake.model)",
            "upstream": "\(upstream.name)", "api": "\(Self.apiLabel(intake, native: native, anthropic: anthropic))",
            "prompt_tokens": "\(promptTokens)", "max_tokens": "\(upstreamCap.map(String.init) ?? "none")",
            "stream": "\(intake.streaming)", "upstream_started_early": "\(early)",
            "held_output_tokens": "\(plan.grant == .max ? "all" : String(plan.grant))",
        ])
        let admitted = AdmittedRequest(
            requestID: requestID, key: key, requestedModel: intake.model, model: model, encoding: encoding,
            preflight: preflight, outputGrant: plan.grant, outputCeiling: plan.ceiling, upstreamMaxTokens: upstreamCap,
            reservation: reservation, budget: budget,
            upstream: upstream, upstreamRequest: body!, streaming: intake.streaming, includeUsage: intake.includeUsage,
            responses: intake.responses, upstreamSpeaksResponses: native, messages: intake.messages, upstreamSpeaksMessages: anthropic,
            hiddenOutputEstimatePercent: hiddenOutput ? configuration.unreportedHiddenOutputPercent : nil)
        return (admitted, stream!, upstreamStarted)
    }

    /// The catalog entry for `name` (404 `model_not_found` when there is none).
    func resolve(_ name: String) throws(GatewayError) -> CatalogModel {
        do { return try catalog.resolve(name).model } catch {
            throw GatewayError(.notFound, "The model `\(name)` does not exist or you do not have access to it.",
                               param: "model", code: "model_not_found")
        }
    }

    /// The prompt of `intake` counted for `model` with the chat rule, in its encoding (also returned), raised by
    /// the model's margin when the encoding is a stand-in, so that the hold covers what the provider will count.
    /// Refuses (400 `unsupported_content_part`) a part that cannot be counted: a file or audio part would count
    /// 0 and be billed by the provider for whatever it holds.
    func countPrompt(_ intake: ChatIntake, model: CatalogModel) throws(GatewayError) -> (Encoding, Int) {
        let encoding: Encoding
        do { encoding = try Encoding.named(EncodingName.named(model.encoding.encodingName)) } catch {
            throw GatewayError(.internalServerError, "The tokenizer for `\(intake.model)` could not be loaded.", type: "server_error")
        }
        if let part = intake.counted.firstUncountablePart {
            throw GatewayError(.badRequest, "TokenMeter cannot count a content part of type \"\(part.type)\", so it cannot "
                + "hold budget for it; send text and image_url parts only.", param: part.path, code: "unsupported_content_part")
        }
        let counter = ChatPromptCounter(model: model, trustsDeclaredImageSizes: false,
                                        cache: configuration.promptCountCacheMiB > 0 ? messageCounts : nil, countText: { encoding.count($0) })
        return (encoding, counter.count(intake.counted).tokens)  // a stand-in count comes raised by the model's margin
    }

    /// What a reservation holds of the output and what is sent upstream.
    struct OutputPlan: Sendable {
        /// Completion tokens held at admission (`Int.max`: nothing limits).
        var grant: Int
        /// Most completion tokens the stream may ever hold (`Int.max`: nothing limits).
        var ceiling: Int
        /// The output cap sent upstream.
        var upstreamCap: Int?
    }

    /// Whether the budget cannot limit the output cap of this request, judged from the key's limits and the
    /// user's status after their last reservation (``BudgetHints``): true when there are no limits, or when
    /// what the hinted budget affords is at least the cap the client and the model already impose.
    private func budgetCannotLimit(key: AuthenticatedKey, preflight: Preflight, capWithoutBudget: Int?) -> Bool {
        let budget = key.budget
        if budget.monthlyLimit == nil, budget.monthlyTokenLimit == nil, budget.maxRequestCost == nil { return true }
        guard let capWithoutBudget, let hint = budgetHints.status(ofUser: key.user.id), hint.budget == budget,
              let affordable = try? preflight.budgetAllowance(status: hint) else { return false }
        return affordable >= capWithoutBudget
    }

    /// The body sent upstream: the client's (a Responses body as sent when `native`, else the chat request),
    /// with the output cap rewritten when there is one.
    private func upstreamBody(_ intake: ChatIntake, native: Bool, cap: Int?, asked: Int?, model: CatalogModel,
                              upstream: UpstreamConfiguration) throws(GatewayError) -> ChatRequest {
        if native, let responses = intake.responses {
            var body = ChatRequest(body: responses.body)
            if let cap { body.body["max_output_tokens"] = .int(Int64(cap)) }
            return body
        }
        if upstream.provider == .anthropic {
            if let messages = intake.messages {
                var body = ChatRequest(body: messages.body)
                if let cap { body.body["max_tokens"] = .int(Int64(cap)) }
                return body
            }
            var chat = intake.body
            // Anthropic requires max_tokens: the cap, else the model's own limit.
            chat.maxOutputTokens = cap ?? asked ?? model.maxOutputTokens
            do { return ChatRequest(body: try AnthropicWire.messagesRequest(fromChat: chat.body)) } catch {
                throw GatewayError(.badRequest, "'\(error.param)' cannot be served: `\(intake.model)` is served by Anthropic, and "
                    + "\(error.reason).", param: error.param, code: "unsupported_parameter")
            }
        }
        var body = intake.body
        if let cap {
            if asked == nil, model.provider == "openai", upstream.provider == .openAICompatible {
                // OpenAI's reasoning models refuse `max_tokens`; `max_completion_tokens` works for all its chat models.
                body.body["max_completion_tokens"] = .int(Int64(cap))
            } else {
                body.maxOutputTokens = cap
            }
        }
        return body
    }

    /// The output cap to send upstream (tokens): the budget's allowance, the client's own cap and the model's
    /// limits, whichever is smallest; nil when none applies (unlimited budget, no cap asked, limits unknown).
    static func outputCap(allowance: Int, asked: Int?, model: CatalogModel, promptTokens: Int) -> Int? {
        var cap = allowance
        if let asked { cap = min(cap, asked) }
        if model.maxOutputTokens > 0 { cap = min(cap, model.maxOutputTokens) }
        if let room = model.outputRoom(promptTokens: promptTokens) { cap = min(cap, room) }
        return cap == Int.max ? nil : cap
    }

    /// The client's API and what the upstream was called with, for the log: `chat`, `responses`, `messages`,
    /// with `→chat` or `→messages` when translated.
    static func apiLabel(_ intake: ChatIntake, native: Bool, anthropic: Bool) -> String {
        let client = intake.messages != nil ? "messages" : intake.responses != nil ? "responses" : "chat"
        let upstream = anthropic ? "messages" : native ? "responses" : "chat"
        return client == upstream ? client : "\(client)→\(upstream)"
    }

    static func ledgerFailure(_ error: any Error) -> GatewayError {
        (error as? LedgerError).map(GatewayError.from)
            ?? GatewayError(.internalServerError, "The usage ledger failed.", type: "server_error", code: "ledger_error")
    }
}
