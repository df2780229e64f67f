import TokenMeterJSON

/// One entry of a catalog file as written: every field optional, so that a user catalog can change
/// only what it names (a price, an alias) of a bundled model, or add a whole new model.
struct ModelPatch: Sendable {
    /// A field that may be left alone, set, or explicitly removed with JSON `null`.
    enum Change<Value: Sendable>: Sendable {
        case keep
        case set(Value)
        case remove

        var isKept: Bool { if case .keep = self { true } else { false } }
    }

    var name: String
    /// Label for error messages: `models[3] "gpt-4o"`.
    var entryLabel: String
    var aliases: [String]?
    var provider: String?
    var mode: String?
    var encoding: ModelEncoding?
    var contextWindow: Int?
    var maxInputTokens: Change<Int> = .keep
    var maxOutputTokens: Int?
    var hiddenOutput: Bool?
    var estimateMargin: Int?
    var price: Change<ModelPrice> = .keep
    var image: Change<ImageTokenRule> = .keep
    var framingVerifiedBy: Change<String> = .keep
    var note: Change<String> = .keep

    static let fields = ["name", "aliases", "provider", "mode", "encoding", "estimate_encoding", "estimate_margin_percent", "context_window",
                         "max_input_tokens", "max_output_tokens", "hidden_output", "price", "image", "framing_verified_by", "note"]

    /// Decodes `models[index]` of a catalog file.
    init(_ value: JSONValue, index: Int, origin: String) throws(CatalogError) {
        var label = "models[\(index)]"
        if case .string(let n) = value["name"] ?? .null, !n.isEmpty { label += " \"\(n)\"" }
        entryLabel = label
        let r = try CatalogEntryReader(value, origin: origin, entry: label, prefix: "", field: "")
        try r.rejectUnknownKeys(ModelPatch.fields)
        name = try r.requiredString("name")
        guard !name.contains(where: { $0.isWhitespace }) else { throw r.fail("name", "\"\(name)\" contains whitespace") }
        aliases = try r.stringArray("aliases")
        provider = try r.string("provider")
        mode = try r.string("mode")
        if let m = mode, !["chat", "responses"].contains(m) {
            throw r.fail("mode", "\"\(m)\" is not one of chat, responses")
        }
        encoding = try ModelPatch.readEncoding(r)
        estimateMargin = try r.int("estimate_margin_percent", in: 0...400)
        contextWindow = try r.int("context_window", in: 1...100_000_000)
        if r.isNull("max_input_tokens") { maxInputTokens = .remove } else if let n = try r.int("max_input_tokens", in: 1...100_000_000) { maxInputTokens = .set(n) }
        maxOutputTokens = try r.int("max_output_tokens", in: 1...100_000_000)
        hiddenOutput = try r.bool("hidden_output")
        if r.isNull("price") { price = .remove } else if let p = try r.object("price") { price = .set(try ModelPatch.readPrice(p)) }
        if r.isNull("image") { image = .remove } else if let i = try r.object("image") { image = .set(try ModelPatch.readImage(i)) }
        if r.isNull("framing_verified_by") { framingVerifiedBy = .remove } else if let s = try r.string("framing_verified_by") { framingVerifiedBy = .set(s) }
        if r.isNull("note") { note = .remove } else if let s = try r.string("note") { note = .set(s) }
    }

    private static func readEncoding(_ r: CatalogEntryReader) throws(CatalogError) -> ModelEncoding? {
        let known = ModelEncoding.knownEncodingNames
        let estimate = try r.string("estimate_encoding")
        guard let enc = try r.string("encoding") else {
            if estimate != nil { throw r.fail("estimate_encoding", "only allowed with \"encoding\": \"approximate\"") }
            return nil
        }
        if enc == "approximate" {
            guard let estimate else {
                throw r.fail("estimate_encoding", "missing: an approximate model must name the encoding used as the estimate (\(known.joined(separator: ", ")))")
            }
            guard known.contains(estimate) else {
                throw r.fail("estimate_encoding", "unknown encoding \"\(estimate)\"; expected one of \(known.joined(separator: ", "))")
            }
            return .approximate(using: estimate)
        }
        guard known.contains(enc) else {
            throw r.fail("encoding", "unknown encoding \"\(enc)\"; expected one of \(known.joined(separator: ", ")), or \"approximate\" with \"estimate_encoding\"")
        }
        if estimate != nil { throw r.fail("estimate_encoding", "only allowed with \"encoding\": \"approximate\"") }
        return .exact(enc)
    }

    private static func readRates(_ r: CatalogEntryReader) throws(CatalogError) -> ModelPrice.Rates {
        guard let input = try r.pricePerMillion("input") else { throw r.fail("input", "missing (required): USD per 1M prompt tokens") }
        guard let output = try r.pricePerMillion("output") else { throw r.fail("output", "missing (required): USD per 1M completion tokens") }
        return .init(input: input, cachedInput: try r.pricePerMillion("cached_input"), output: output,
                     cacheWrite5m: try r.pricePerMillion("cache_write_5m"), cacheWrite1h: try r.pricePerMillion("cache_write_1h"))
    }

    private static func readLongContext(_ r: CatalogEntryReader) throws(CatalogError) -> ModelPrice.LongContextTier? {
        guard let t = try r.object("long_context") else { return nil }
        try t.rejectUnknownKeys(["above_prompt_tokens", "input", "cached_input", "output", "cache_write_5m", "cache_write_1h"])
        return .init(abovePromptTokens: try t.requiredInt("above_prompt_tokens", in: 1...100_000_000), rates: try readRates(t))
    }

    /// The `source` and `date` of a price or of one service tier's price, both required.
    private static func readProvenance(_ r: CatalogEntryReader) throws(CatalogError) -> (source: String, date: String) {
        let source = try r.requiredString("source")
        let date = try r.requiredString("date")
        guard isISODate(date) else { throw r.fail("date", "\"\(date)\" is not a date of the form YYYY-MM-DD") }
        return (source, date)
    }

    private static func readPrice(_ r: CatalogEntryReader) throws(CatalogError) -> ModelPrice {
        try r.rejectUnknownKeys(["input", "cached_input", "output", "cache_write_5m", "cache_write_1h", "long_context", "service_tiers",
                                 "source", "date"])
        let standard = try readRates(r)
        let longContext = try readLongContext(r)
        var tiers: [String: ModelPrice.ServiceTierPrice] = [:]
        if let all = try r.object("service_tiers") {
            for member in all.members where !member.key.hasPrefix("_") {
                let name = member.key
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                    throw all.fail(name, "a service tier name is lowercase letters, digits, _ or -, as OpenAI reports it in `service_tier`")
                }
                guard name != ModelPrice.standardServiceTier, name != "auto" else {
                    throw all.fail(name, "\"\(name)\" is not a priced tier: \"default\" is the standard price (price.input, ...), "
                        + "and \"auto\" is a request value, not the tier that served it")
                }
                guard let t = try all.object(name) else { throw all.fail(name, "expected an object with input, output, source and date") }
                try t.rejectUnknownKeys(["input", "cached_input", "output", "cache_write_5m", "cache_write_1h", "long_context", "source", "date"])
                let rates = try readRates(t)
                let long = try readLongContext(t)
                let (source, date) = try readProvenance(t)
                tiers[name] = .init(rates: rates, longContext: long, source: source, date: date)
            }
        }
        let (source, date) = try readProvenance(r)
        return ModelPrice(standard: standard, longContext: longContext, serviceTiers: tiers, source: source, date: date)
    }

    private static func readImage(_ r: CatalogEntryReader) throws(CatalogError) -> ImageTokenRule {
        let note = try r.string("note")
        switch try r.requiredString("rule") {
        case "tiles":
            try r.rejectUnknownKeys(["rule", "base", "tile", "note"])
            return .init(scheme: .tiles(base: try r.requiredInt("base", in: 0...1_000_000),
                                        perTile: try r.requiredInt("tile", in: 0...1_000_000)), note: note)
        case "patches":
            try r.rejectUnknownKeys(["rule", "multiplier", "note"])
            let text: String
            switch r.value("multiplier") {
            case .string(let s)?, .number(let s)?: text = s
            case nil: throw r.fail("multiplier", "missing (required) for rule \"patches\", e.g. \"1.62\"")
            case let v?: throw r.fail("multiplier", "expected a decimal such as \"1.62\", found \(v.typeName)")
            }
            guard let m = ExactRatio(decimal: text) else {
                throw r.fail("multiplier", "\"\(text)\" is not a plain decimal with at most 6 decimals, e.g. \"1.62\"")
            }
            return .init(scheme: .patches(multiplier: m), note: note)
        case let other:
            throw r.fail("rule", "\"\(other)\" is not one of tiles, patches")
        }
    }

    static func isISODate(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return false }
        return y >= 2000 && (1...12).contains(m) && (1...31).contains(d)
    }

    /// Applies the patch over `base` (a bundled model of the same name) or, with no base, builds a
    /// new model, which then needs every required field.
    func apply(to base: CatalogModel?, origin: String) throws(CatalogError) -> CatalogModel {
        func missing(_ field: String, _ why: String) -> CatalogError {
            .invalidField(origin: origin, entry: entryLabel, field: field, problem: "missing (required for a new model: \(why))")
        }
        var m: CatalogModel
        if let base {
            m = base
            m.name = name
        } else {
            guard let provider else { throw missing("provider", "who serves it, e.g. \"openai\" or \"ollama\"") }
            guard let encoding else { throw missing("encoding", "o200k_base, cl100k_base, o200k_harmony or approximate") }
            guard let contextWindow else { throw missing("context_window", "the whole context in tokens, prompt plus output") }
            guard let maxOutputTokens else { throw missing("max_output_tokens", "largest completion in tokens") }
            m = CatalogModel(name: name, provider: provider, encoding: encoding, contextWindow: contextWindow,
                             maxOutputTokens: maxOutputTokens, price: nil)
        }
        if let aliases { m.aliases = aliases }
        if let provider { m.provider = provider }
        if let mode { m.mode = mode }
        if let encoding { m.encoding = encoding }
        if let estimateMargin { m.estimateMarginPercent = estimateMargin }
        if m.estimateMarginPercent > 0, case .exact = m.encoding {
            throw .invalidField(origin: origin, entry: entryLabel, field: "estimate_margin_percent",
                                problem: "only allowed with \"encoding\": \"approximate\" (an exact count needs no margin)")
        }
        if let contextWindow { m.contextWindow = contextWindow }
        switch maxInputTokens { case .keep: break; case .set(let n): m.maxInputTokens = n; case .remove: m.maxInputTokens = nil }
        if let maxOutputTokens { m.maxOutputTokens = maxOutputTokens }
        if let hiddenOutput { m.hiddenOutput = hiddenOutput }
        switch price { case .keep: break; case .set(let p): m.price = p; case .remove: m.price = nil }
        switch image { case .keep: break; case .set(let i): m.image = i; case .remove: m.image = nil }
        switch framingVerifiedBy { case .keep: break; case .set(let s): m.framingVerifiedBy = s; case .remove: m.framingVerifiedBy = nil }
        switch note { case .keep: break; case .set(let s): m.note = s; case .remove: m.note = nil }
        if let maxInput = m.maxInputTokens, maxInput > m.contextWindow {
            throw .invalidField(origin: origin, entry: entryLabel, field: maxInputTokens.isKept ? "context_window" : "max_input_tokens",
                                problem: "max_input_tokens \(maxInput) is more than context_window \(m.contextWindow); the context window "
                                    + "is the whole context (prompt plus output), so the largest prompt cannot exceed it")
        }
        return m
    }
}
