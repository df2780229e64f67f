import Testing
import TokenMeterMoney
@testable import TokenMeterCatalog

@Suite struct ModelResolutionTests {
    @Test func datedSnapshotsResolveToTheirOwnEntryOrTheBaseModel() throws {
        let c = try TestSupport.bundled()
        // Own entry (own prices) wins over the snapshot rule.
        #expect(try c.resolve("gpt-4o-2024-05-13").match == .name)
        #expect(try c.resolve("gpt-4o-2024-05-13").model.price?.standard.input.picoUSD == 5_000_000)
        // No entry: priced as the base model.
        let r = try c.resolve("gpt-4o-2024-08-06")
        #expect(r.model.name == "gpt-4o" && r.match == .snapshot(base: "gpt-4o"))
        #expect(try c.resolve("gpt-4o-mini-2024-07-18").model.name == "gpt-4o-mini")
        #expect(try c.resolve("gpt-4-0613").model.name == "gpt-4")
        #expect(try c.resolve("gpt-3.5-turbo-0125").model.name == "gpt-3.5-turbo")
        #expect(try c.resolve("gpt-4.1-2025-04-14").model.name == "gpt-4.1")
        #expect(try c.resolve("gpt-4-turbo-2024-04-09").model.name == "gpt-4-turbo")
        #expect(try c.resolve("o3-mini-2025-01-31").model.name == "o3-mini")
    }

    @Test func olderGpt35TurboSnapshotsHaveTheirOwnPrices() throws {
        let c = try TestSupport.bundled()
        // litellm 1.110.2 (1106) and 1.53.1 (0613), docs/reference/PRICES.md; 0125 is gpt-3.5-turbo's own price.
        let cases: [(String, String, String, String)] = [
            ("gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106", "1.00", "2.00"),
            ("gpt-3.5-turbo-0613", "gpt-3.5-turbo-0613", "1.50", "2.00"),
            ("gpt-3.5-turbo-0125", "gpt-3.5-turbo", "0.50", "1.50"),
        ]
        for (requested, entry, input, output) in cases {
            let r = try c.resolve(requested)
            #expect(r.model.name == entry, "\(requested)")
            let rates = try r.model.billingPrice().standard
            #expect(rates.input == (try Money(perMillionTokens: input)), "\(requested)")
            #expect(rates.output == (try Money(perMillionTokens: output)), "\(requested)")
            // One prompt token and one completion token, to the pico-dollar.
            let cost = try r.model.billingPrice().cost(promptTokens: 1, completionTokens: 1)
            #expect(cost == rates.input + rates.output)
        }
        #expect(try c.resolve("gpt-3.5-turbo-1106").match == .name)
        #expect(try c.resolve("gpt-3.5-turbo-0613").model.contextWindow == 4097)
    }

    @Test func aliasesTagsAndCaseResolve() throws {
        let c = try TestSupport.bundled()
        #expect(try c.resolve("gpt-35-turbo") == ResolvedModel(requested: "gpt-35-turbo", model: c.model(named: "gpt-3.5-turbo")!, match: .alias))
        #expect(try c.resolve("llama3.1:8b").match == .tag(base: "llama3.1"))
        #expect(try c.resolve("qwen2.5:latest").model.name == "qwen2.5")
        #expect(try c.resolve("GPT-4o").model.name == "gpt-4o")
    }

    @Test func snapshotRuleNeedsARealDate() {
        #expect(ModelCatalog.snapshotBase(of: "gpt-4o-2024-08-06") == "gpt-4o")
        #expect(ModelCatalog.snapshotBase(of: "gpt-4-0613") == "gpt-4")
        #expect(ModelCatalog.snapshotBase(of: "gpt-4-1399") == nil)      // month 13
        #expect(ModelCatalog.snapshotBase(of: "gpt-4o-2024-13-01") == nil)
        #expect(ModelCatalog.snapshotBase(of: "gpt-4-1106-preview") == nil)
        #expect(ModelCatalog.snapshotBase(of: "gpt-4o") == nil)
    }

    @Test func unknownModelErrorNamesTheClosestNames() throws {
        let c = try TestSupport.bundled()
        #expect(throws: CatalogError.unknownModel(name: "gpt-4o-mni", suggestions: ["gpt-4o-mini", "gpt-4.1-mini", "gpt-5-mini"])) {
            try c.resolve("gpt-4o-mni")
        }
        #expect(throws: CatalogError.unknownModel(name: "lama3.1", suggestions: ["llama3.1", "llama3.2", "llama3.3"])) {
            try c.resolve("lama3.1")
        }
        let message = CatalogError.unknownModel(name: "gpt-4o-mni", suggestions: ["gpt-4o-mini", "gpt-4o"]).description
        #expect(message == "unknown model \"gpt-4o-mni\"; closest: gpt-4o-mini, gpt-4o (add it with --catalog FILE, see docs/CATALOG.md)")
    }

    @Test func levenshteinDistance() {
        #expect(EditDistance.levenshtein(Array("kitten"), Array("sitting")) == 3)
        #expect(EditDistance.levenshtein(Array(""), Array("abc")) == 3)
        #expect(EditDistance.levenshtein(Array("gpt-4o"), Array("gpt-4o")) == 0)
    }

    @Test("closest: nearest first ignoring case, ties alphabetical, at most `limit`, none beyond `maxDistance`")
    func closestCandidates() {
        let keys = ["database", "listen", "routes", "upstreams", "admin_key"]
        #expect(EditDistance.closest(to: "DATABSE", among: keys, limit: 1) == ["database"])
        #expect(EditDistance.closest(to: "routs", among: keys, limit: 2) == ["routes", "listen"])
        #expect(EditDistance.closest(to: "alerts", among: keys, limit: 2) == ["listen", "routes"], "both 5 edits away")
        #expect(EditDistance.closest(to: "alerts", among: keys, maxDistance: 4).isEmpty)
    }
}
