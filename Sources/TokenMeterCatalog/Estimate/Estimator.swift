import TokenMeterMoney

/// Which models to estimate for.
public enum ModelSelection: Sendable, Equatable {
    /// The model each request names (`"model"`); text inputs then need `named`.
    case fromRequest
    /// These names (resolved by the catalog's rules), in this order.
    case named([String])
    /// Every priced model in the catalog, cheapest first.
    case compare
}

/// Settings of an estimate run.
public struct EstimateOptions: Sendable, Equatable {
    /// Output allowance when a request does not set one (`--max-output`); nil → the model's maximum,
    /// cut to what fits beside the prompt.
    public var maxOutput: Int?
    /// The service tier to price with (`--service-tier`, e.g. `"flex"`, `"priority"`); nil → the standard
    /// prices. A model without a price for the tier shows no cost.
    public var serviceTier: String?
    /// Count text inputs as bare text instead of as one user message.
    public var rawText: Bool
    /// How many inputs are read and counted at once.
    public var workers: Int

    public init(maxOutput: Int? = nil, serviceTier: String? = nil, rawText: Bool = false, workers: Int = 2) {
        self.maxOutput = maxOutput
        self.serviceTier = serviceTier
        self.rawText = rawText
        self.workers = workers
    }
}

/// Pre-flight estimates: prompt tokens, output allowance, costs and context fit, for inputs and
/// models. The `tokenmeter estimate` command is a thin layer over this type.
public struct Estimator: Sendable {
    public let catalog: ModelCatalog
    public let counters: any TextCounterProvider

    public init(catalog: ModelCatalog, counters: any TextCounterProvider) {
        self.catalog = catalog
        self.counters = counters
    }

    /// Estimates every input for the selected models, `options.workers` inputs at a time, and
    /// returns rows in input order with per-model totals.
    public func estimate(_ inputs: [EstimateInput], models selection: ModelSelection,
                         options: EstimateOptions = .init()) async throws(EstimateError) -> EstimateReport {
        if let n = options.maxOutput, n < 1 { throw .invalidMaxOutput(n) }
        // Resolve named models once, up front, so an unknown name fails before any work.
        let fixed: [ResolvedModel]?
        switch selection {
        case .fromRequest: fixed = nil
        case .named(let names):
            var list: [ResolvedModel] = []
            for n in names {
                do { list.append(try catalog.resolve(n)) } catch { throw .catalog(error) }
            }
            fixed = list
        case .compare:
            fixed = catalog.pricedModels.map { ResolvedModel(requested: $0.name, model: $0, match: .name) }
        }
        let perInput: [[EstimateRow]]
        do {
            perInput = try await withThrowingTaskGroup(of: (Int, [EstimateRow]).self) { group in
                var results = [[EstimateRow]](repeating: [], count: inputs.count)
                var next = 0
                func submit() {
                    let i = next, input = inputs[i]
                    next += 1
                    group.addTask { (i, try self.estimate(input, models: fixed, options: options)) }
                }
                while next < inputs.count, next < max(1, options.workers) { submit() }
                while let (i, rows) = try await group.next() {
                    results[i] = rows
                    if next < inputs.count { submit() }
                }
                return results
            }
        } catch let e as EstimateError {
            throw e
        } catch {
            preconditionFailure("estimate tasks throw only EstimateError, got \(error)")
        }
        var rows = perInput.flatMap { $0 }
        if selection == .compare {
            // Stable per input: cheapest worst case first, then cheapest prompt, then name.
            rows = perInput.flatMap { $0.sorted(by: Estimator.cheaperFirst) }
        }
        return EstimateReport(rows: rows, totals: Estimator.totals(rows, compare: selection == .compare), inputCount: inputs.count)
    }

    /// Estimates one input for `models` (nil: the request's own model).
    func estimate(_ input: EstimateInput, models: [ResolvedModel]?, options: EstimateOptions) throws(EstimateError) -> [EstimateRow] {
        let source = try input.load()
        var targets: [ResolvedModel]
        if let models {
            targets = models
        } else {
            guard case .request(let r) = source, let name = r.model else { throw .noModel(input: input.name) }
            do { targets = [try catalog.resolve(name)] } catch { throw .catalog(error) }
        }
        var rows: [EstimateRow] = []
        for target in targets {
            let countText = try counters.counter(forEncoding: target.model.encoding.encodingName)
            let counter = ChatPromptCounter(model: target.model, countText: countText)
            switch source {
            case .text(let text):
                rows.append(try row(input.name, target, counter.count(text: text, raw: options.rawText), requestMax: nil, options: options))
            case .request(let request):
                rows.append(try row(input.name, target, counter.count(request), requestMax: request.maxOutputTokens, options: options))
            }
        }
        return rows
    }

    private func row(_ input: String, _ target: ResolvedModel, _ prompt: PromptCount, requestMax: Int?,
                     options: EstimateOptions) throws(EstimateError) -> EstimateRow {
        let model = target.model
        let allowance: Int, source: EstimateRow.AllowanceSource
        if let requestMax { (allowance, source) = (requestMax, .request) }
        else if let n = options.maxOutput { (allowance, source) = (n, .option) }
        else {
            // No cap is sent: the gateway sends the model's maximum, cut to what fits beside the prompt.
            (allowance, source) = (min(model.maxOutputTokens, model.outputRoom(promptTokens: prompt.tokens) ?? .max), .model)
        }

        var warnings: [String] = []
        // A cap that would be sent (the request's or --max-output) must fit beside the prompt, as the provider checks.
        let overflow = model.contextOverflow(promptTokens: prompt.tokens, outputTokens: source == .model ? 0 : allowance)
        switch overflow {
        case nil:
            break
        case .inputTooLong(_, let limit)?:
            warnings.append("prompt of \(prompt.tokens) tokens exceeds \(model.name)'s input limit of \(limit) tokens (of a \(model.contextWindow)-token context); the provider would reject it")
        case .contextExceeded(_, let output, let window)? where output == 0 || prompt.tokens >= window:
            warnings.append("prompt of \(prompt.tokens) tokens exceeds \(model.name)'s context window of \(window) tokens; the provider would reject it")
        case .contextExceeded(_, let output, let window)?:
            warnings.append("prompt of \(prompt.tokens) tokens plus an output allowance of \(output) exceeds \(model.name)'s context window of \(window) tokens; the provider would reject it")
        }
        if allowance > model.maxOutputTokens {
            warnings.append("output allowance of \(allowance) tokens exceeds \(model.name)'s maximum of \(model.maxOutputTokens); the provider would reject it")
        }
        var promptCost: Money?, worstCost: Money?
        if let price = model.price {
            do {
                promptCost = try price.cost(promptTokens: prompt.tokens, completionTokens: 0, serviceTier: options.serviceTier)
                worstCost = try price.cost(promptTokens: prompt.tokens, completionTokens: allowance, serviceTier: options.serviceTier)
            } catch .unpricedServiceTier(let tier, _) {
                warnings.append("\(model.name) has no \"\(tier)\" service-tier price in the catalog for this prompt: no cost shown")
            } catch { throw .cost(model: model.name, error) }
            if let tier = price.longContext, prompt.tokens > tier.abovePromptTokens {
                warnings.append("prompt above \(tier.abovePromptTokens) tokens: \(model.name)'s long-context rates apply to the whole request")
            }
        } else {
            warnings.append("\(model.name) has no price in the catalog: refused for billing")
        }
        return EstimateRow(input: input, resolved: target, prompt: prompt, maxOutputTokens: allowance, allowanceSource: source,
                           serviceTier: options.serviceTier, promptCost: promptCost, worstCaseCost: worstCost,
                           contextOverflow: overflow, warnings: warnings)
    }

    static func cheaperFirst(_ a: EstimateRow, _ b: EstimateRow) -> Bool {
        let wa = a.worstCaseCost?.picoUSD ?? .max, wb = b.worstCaseCost?.picoUSD ?? .max
        if wa != wb { return wa < wb }
        let pa = a.promptCost?.picoUSD ?? .max, pb = b.promptCost?.picoUSD ?? .max
        if pa != pb { return pa < pb }
        return a.model.name < b.model.name
    }

    static func totals(_ rows: [EstimateRow], compare: Bool) -> [EstimateTotal] {
        var order: [String] = []
        var byModel: [String: EstimateTotal] = [:]
        for r in rows {
            let key = r.model.name
            var t = byModel[key] ?? {
                order.append(key)
                return EstimateTotal(model: key, inputs: 0, promptTokens: 0, maxOutputTokens: 0,
                                     promptCost: .zero, worstCaseCost: .zero, overContext: 0, isExact: true)
            }()
            t.inputs += 1
            t.promptTokens += r.prompt.tokens
            t.maxOutputTokens += r.maxOutputTokens
            // A total has a cost only when every row it sums has one (no price, or none for the service tier).
            t.promptCost = t.promptCost.flatMap { sum in r.promptCost.map { sum + $0 } }
            t.worstCaseCost = t.worstCaseCost.flatMap { sum in r.worstCaseCost.map { sum + $0 } }
            if !r.fitsContext { t.overContext += 1 }
            t.isExact = t.isExact && r.isExact
            byModel[key] = t
        }
        var totals = order.map { byModel[$0]! }
        if compare {
            totals.sort {
                let wa = $0.worstCaseCost?.picoUSD ?? .max, wb = $1.worstCaseCost?.picoUSD ?? .max
                if wa != wb { return wa < wb }
                let pa = $0.promptCost?.picoUSD ?? .max, pb = $1.promptCost?.picoUSD ?? .max
                return pa != pb ? pa < pb : $0.model < $1.model
            }
        }
        return totals
    }
}
