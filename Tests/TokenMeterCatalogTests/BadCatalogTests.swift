import Foundation
import Testing
@testable import TokenMeterCatalog
import TokenMeterJSON
import TokenMeterMoney

/// Bad catalog files are refused with an error naming the file, the entry and the field.
@Suite struct BadCatalogTests {
    func load(_ models: String) throws(CatalogError) -> ModelCatalog {
        try ModelCatalog().merging(json: Array(#"{"format": 1, "models": [\#(models)]}"#.utf8), origin: "bad.json")
    }

    static let ok = #""name": "m", "provider": "p", "encoding": "o200k_base", "context_window": 100, "max_output_tokens": 10"#
    static let price = #""source": "s", "date": "2026-01-02""#

    @Test func malformedJSONGivesLineAndColumn() {
        #expect(throws: CatalogError.malformedJSON(origin: "bad.json", JSONSyntaxError(line: 2, column: 12, reason: "invalid literal, expected 'true'"))) {
            try ModelCatalog().merging(json: Array("{\"format\": 1,\n \"models\": tru}".utf8), origin: "bad.json")
        }
    }

    @Test func missingAndWrongTypedFieldsNameEntryAndField() {
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "context_window",
                                                  problem: "missing (required for a new model: the whole context in tokens, prompt plus output)")) {
            try load(#"{"name": "m", "provider": "p", "encoding": "o200k_base", "max_output_tokens": 10}"#)
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[1] \"n\"", field: "max_output_tokens",
                                                  problem: "expected a whole number, found string")) {
            try load("{\(Self.ok)}, " + #"{"name": "n", "provider": "p", "encoding": "o200k_base", "context_window": 100, "max_output_tokens": "10"}"#)
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0]", field: "name", problem: "expected a string, found number")) {
            try load(#"{"name": 5}"#)
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "context_window",
                                                  problem: "0 is out of range 1...100000000")) {
            try load(#"{"name": "m", "provider": "p", "encoding": "o200k_base", "context_window": 0, "max_output_tokens": 10}"#)
        }
    }

    @Test func typosAndBadValuesAreRefused() {
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "pirce",
                                                  problem: "unknown field; expected one of \(ModelPatch.fields.joined(separator: ", "))")) {
            try load("{\(Self.ok), \"pirce\": {}}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "price.output",
                                                  problem: "missing (required): USD per 1M completion tokens")) {
            try load("{\(Self.ok), \"price\": {\"input\": \"1\", \(Self.price)}}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "price.input", problem: "price -1 is negative")) {
            try load("{\(Self.ok), \"price\": {\"input\": -1, \"output\": 1, \(Self.price)}}")
        }
        #expect(throws: CatalogError.self) { try load("{\(Self.ok), \"price\": {\"input\": \"0.0000001\", \"output\": 1, \(Self.price)}}") }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "price.date",
                                                  problem: "\"26-1-2\" is not a date of the form YYYY-MM-DD")) {
            try load("{\(Self.ok), \"price\": {\"input\": 1, \"output\": 1, \"source\": \"s\", \"date\": \"26-1-2\"}}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "price.source", problem: "missing (required)")) {
            try load("{\(Self.ok), \"price\": {\"input\": 1, \"output\": 1, \"date\": \"2026-01-02\"}}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "encoding",
                                                  problem: "unknown encoding \"p50k_base\"; expected one of cl100k_base, o200k_base, o200k_harmony, or \"approximate\" with \"estimate_encoding\"")) {
            try load(#"{"name": "m", "provider": "p", "encoding": "p50k_base", "context_window": 100, "max_output_tokens": 10}"#)
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "estimate_encoding",
                                                  problem: "missing: an approximate model must name the encoding used as the estimate (cl100k_base, o200k_base, o200k_harmony)")) {
            try load(#"{"name": "m", "provider": "p", "encoding": "approximate", "context_window": 100, "max_output_tokens": 10}"#)
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "image.multiplier",
                                                  problem: "\"x1.5\" is not a plain decimal with at most 6 decimals, e.g. \"1.62\"")) {
            try load("{\(Self.ok), \"image\": {\"rule\": \"patches\", \"multiplier\": \"x1.5\"}}")
        }
    }

    @Test func serviceTierPricesAreCheckedLikeTheStandardPrice() {
        func tiers(_ json: String) -> String { "{\(Self.ok), \"price\": {\"input\": 1, \"output\": 2, \(Self.price), \"service_tiers\": \(json)}}" }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "price.service_tiers.flex.source",
                                                  problem: "missing (required)")) {
            try load(tiers(#"{"flex": {"input": "0.5", "output": "1", "date": "2026-01-02"}}"#))
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "price.service_tiers.flex.output",
                                                  problem: "missing (required): USD per 1M completion tokens")) {
            try load(tiers(#"{"flex": {"input": "0.5", \#(Self.price)}}"#))
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "price.service_tiers.priority.input",
                                                  problem: "price -1 is negative")) {
            try load(tiers(#"{"priority": {"input": -1, "output": "1", \#(Self.price)}}"#))
        }
        #expect(throws: CatalogError.self) { try load(tiers(#"{"flex": {"input": "0.0000001", "output": "1", \#(Self.price)}}"#)) }
        #expect(throws: CatalogError.self) { try load(tiers(#"{"default": {"input": "1", "output": "1", \#(Self.price)}}"#)) }
        #expect(throws: CatalogError.self) { try load(tiers(#"{"auto": {"input": "1", "output": "1", \#(Self.price)}}"#)) }
        #expect(throws: CatalogError.self) { try load(tiers(#"{"Flex": {"input": "1", "output": "1", \#(Self.price)}}"#)) }
        #expect(throws: CatalogError.self) { try load(tiers(#"{"flex": {"input": "1", "output": "1", "batch": true, \#(Self.price)}}"#)) }
        let ok = try? load(tiers(#"{"flex": {"input": "0.5", "cached_input": "0.05", "output": "1", "source": "t", "date": "2026-01-03"}}"#))
        #expect(ok?.model(named: "m")?.price?.serviceTiers["flex"]
                == ModelPrice.ServiceTierPrice(rates: .init(input: Money(picoUSD: 500_000), cachedInput: Money(picoUSD: 50_000), output: Money(picoUSD: 1_000_000)),
                                               source: "t", date: "2026-01-03"))
    }

    @Test func maxInputTokensCannotPassTheContextWindow() {
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "max_input_tokens",
                                                  problem: "max_input_tokens 101 is more than context_window 100; the context window is the whole "
                                                      + "context (prompt plus output), so the largest prompt cannot exceed it")) {
            try load("{\(Self.ok), \"max_input_tokens\": 101}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"gpt-5\"", field: "context_window",
                                                  problem: "max_input_tokens 272000 is more than context_window 200000; the context window is the whole "
                                                      + "context (prompt plus output), so the largest prompt cannot exceed it")) {
            try TestSupport.bundled().merging(json: Array(#"{"format": 1, "models": [{"name": "gpt-5", "context_window": 200000}]}"#.utf8),
                                              origin: "bad.json")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "max_input_tokens",
                                                  problem: "0 is out of range 1...100000000")) {
            try load("{\(Self.ok), \"max_input_tokens\": 0}")
        }
    }

    @Test func hiddenOutputMustBeABoolean() {
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "hidden_output",
                                                  problem: "expected true or false, found string")) {
            try load("{\(Self.ok), \"hidden_output\": \"yes\"}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"m\"", field: "hidden_output",
                                                  problem: "expected true or false, found number 1")) {
            try load("{\(Self.ok), \"hidden_output\": 1}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "models[0] \"gpt-5\"", field: "hidden_output",
                                                  problem: "expected true or false, found null")) {
            try TestSupport.bundled().merging(json: Array(#"{"format": 1, "models": [{"name": "gpt-5", "hidden_output": null}]}"#.utf8),
                                              origin: "bad.json")
        }
    }

    @Test func duplicateNamesAndFormatVersionAreChecked() {
        #expect(throws: CatalogError.duplicateName(origin: "bad.json", name: "m2", firstEntry: "bad.json models[0] \"m\"", secondEntry: "models[1] \"m2\"")) {
            try load("{\(Self.ok), \"aliases\": [\"m2\"]}, " + "{\(Self.ok.replacingOccurrences(of: "\"m\"", with: "\"m2\""))}")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "", field: "format",
                                                  problem: "version 2 is not supported; this TokenMeter reads format 1")) {
            try ModelCatalog().merging(json: Array(#"{"format": 2, "models": []}"#.utf8), origin: "bad.json")
        }
        #expect(throws: CatalogError.invalidField(origin: "bad.json", entry: "", field: "models", problem: "missing (required)")) {
            try ModelCatalog().merging(json: Array(#"{"format": 1}"#.utf8), origin: "bad.json")
        }
    }

    @Test func errorMessagesReadWell() {
        let e = CatalogError.invalidField(origin: "my.json", entry: "models[2] \"acme\"", field: "price.input", problem: "price -1 is negative")
        #expect(e.description == "my.json: models[2] \"acme\", field \"price.input\": price -1 is negative")
    }
}
