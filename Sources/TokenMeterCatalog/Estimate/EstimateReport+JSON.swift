import TokenMeterMoney
import TokenMeterJSON

extension EstimateReport {
    /// The report as pretty-printed JSON for scripts. Costs are exact decimal strings in USD
    /// (`"0.00031"`), null for an unpriced model; see docs/CATALOG.md ("estimate --json").
    public func jsonText() -> String {
        let doc: JSONValue = [
            "currency": .string("USD"),
            "inputs": .int(inputCount),
            "over_context": .bool(anyOverContext),
            "rows": .array(rows.map(\.json)),
            "totals": .array(totals.map(\.json)),
        ]
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
        return [
            "input": .string(input),
            "requested_model": .string(resolved.requested),
            "model": .string(model.name),
            "match": .string(match),
            "provider": .string(model.provider),
            "encoding": .string(model.encoding.encodingName),
            "encoding_exact": .bool(model.encoding.isExact),
            "prompt_tokens": .int(prompt.tokens),
            "prompt_breakdown": [
                "text": .int(prompt.text),
                "framing": .int(prompt.framing),
                "images": .int(prompt.images),
                "tools": .int(prompt.tools),
            ],
            "max_output_tokens": .int(maxOutputTokens),
            "max_output_source": .string(allowanceSource.rawValue),
            "hidden_output": .bool(model.hiddenOutput),
            "context_window": .int(model.contextWindow),
            "max_input_tokens": model.maxInputTokens.map { .int($0) } ?? .null,
            "fits_context": .bool(fitsContext),
            "service_tier": serviceTier.map { .string($0) } ?? .null,
            "priced": .bool(promptCost != nil),
            "prompt_cost": promptCost.map { .string($0.decimalString) } ?? .null,
            "worst_case_cost": worstCaseCost.map { .string($0.decimalString) } ?? .null,
            "price_source": provenance.map { .string($0.source) } ?? .null,
            "price_date": provenance.map { .string($0.date) } ?? .null,
            "exact": .bool(isExact),
            "approximations": .array(prompt.approximations.map { .string($0) }),
            "warnings": .array(warnings.map { .string($0) }),
        ]
    }
}

extension EstimateRow {
    /// Where the prices of this row's service tier were read; nil when the model has none.
    var provenance: (source: String, date: String)? { model.price?.provenance(ofServiceTier: serviceTier) }
}

extension EstimateTotal {
    var json: JSONValue {
        [
            "model": .string(model),
            "inputs": .int(inputs),
            "prompt_tokens": .int(promptTokens),
            "max_output_tokens": .int(maxOutputTokens),
            "prompt_cost": promptCost.map { .string($0.decimalString) } ?? .null,
            "worst_case_cost": worstCaseCost.map { .string($0.decimalString) } ?? .null,
            "over_context": .int(overContext),
            "exact": .bool(isExact),
        ]
    }
}
