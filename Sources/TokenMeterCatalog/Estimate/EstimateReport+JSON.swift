import TokenMeterMoney

extension EstimateReport {
    /// The report as pretty-printed JSON for scripts. Costs are exact decimal strings in USD
    /// (`"0.00031"`), null for an unpriced model; see docs/CATALOG.md ("estimate --json").
    public func jsonText() -> String {
        let doc: JSONValue = .object([
            ("currency", .string("USD")),
            ("inputs", .number(String(inputCount))),
            ("over_context", .bool(anyOverContext)),
            ("rows", .array(rows.map(\.json))),
            ("totals", .array(totals.map(\.json))),
        ])
        return doc.prettyJSON()
    }
}

extension EstimateRow {
    var json: JSONValue {
        var match: String
        switch resolved.match {
        case .name: match = "name"
        case .alias: match = "alias"
        case .snapshot(let base): match = "snapshot of \(base)"
        case .tag(let base): match = "tag of \(base)"
        }
        return .object([
            ("input", .string(input)),
            ("requested_model", .string(resolved.requested)),
            ("model", .string(model.name)),
            ("match", .string(match)),
            ("provider", .string(model.provider)),
            ("encoding", .string(model.encoding.encodingName)),
            ("encoding_exact", .bool(model.encoding.isExact)),
            ("prompt_tokens", .number(String(prompt.tokens))),
            ("prompt_breakdown", .object([
                ("text", .number(String(prompt.text))),
                ("framing", .number(String(prompt.framing))),
                ("images", .number(String(prompt.images))),
                ("tools", .number(String(prompt.tools))),
            ])),
            ("max_output_tokens", .number(String(maxOutputTokens))),
            ("max_output_source", .string(allowanceSource.rawValue)),
            ("context_window", .number(String(model.contextWindow))),
            ("fits_context", .bool(fitsContext)),
            ("priced", .bool(model.price != nil)),
            ("prompt_cost", promptCost.map { .string($0.decimalString) } ?? .null),
            ("worst_case_cost", worstCaseCost.map { .string($0.decimalString) } ?? .null),
            ("price_source", model.price.map { .string($0.source) } ?? .null),
            ("price_date", model.price.map { .string($0.date) } ?? .null),
            ("exact", .bool(isExact)),
            ("approximations", .array(prompt.approximations.map { .string($0) })),
            ("warnings", .array(warnings.map { .string($0) })),
        ])
    }
}

extension EstimateTotal {
    var json: JSONValue {
        .object([
            ("model", .string(model)),
            ("inputs", .number(String(inputs))),
            ("prompt_tokens", .number(String(promptTokens))),
            ("max_output_tokens", .number(String(maxOutputTokens))),
            ("prompt_cost", promptCost.map { .string($0.decimalString) } ?? .null),
            ("worst_case_cost", worstCaseCost.map { .string($0.decimalString) } ?? .null),
            ("over_context", .number(String(overContext))),
            ("exact", .bool(isExact)),
        ])
    }
}

extension JSONValue {
    /// The value as JSON indented by two spaces per level, members in order.
    public func prettyJSON() -> String {
        var out = ""
        writePretty(to: &out, indent: 0)
        return out
    }

    private func writePretty(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1), closePad = String(repeating: "  ", count: indent)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.writePretty(to: &out, indent: indent + 1)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += closePad + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, m) in members.enumerated() {
                out += pad
                JSONValue.writeString(m.key, to: &out)
                out += ": "
                m.value.writePretty(to: &out, indent: indent + 1)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += closePad + "}"
        default:
            out += compactJSON
        }
    }
}
