import Testing
import TokenMeterMoney
@testable import TokenMeterCatalog

@Suite struct CatalogMergeTests {
    static let user = """
    {
      "format": 1,
      "models": [
        {"name": "gpt-4o", "price": {"input": "2.00", "output": "8.00", "source": "negotiated contract #42", "date": "2026-11-01"}},
        {"name": "gpt-4", "price": null},
        {"name": "llama3.1", "aliases": ["my-llama"], "context_window": 8192},
        {"name": "acme-chat", "provider": "acme", "encoding": "approximate", "estimate_encoding": "o200k_base",
         "context_window": 32000, "max_output_tokens": 4000,
         "price": {"input": 0.3, "cached_input": "0.03", "output": 1.2, "source": "acme.example price page", "date": "2026-10-30"}},
        {"name": "acme-unpriced", "provider": "acme", "encoding": "cl100k_base", "context_window": 1000, "max_output_tokens": 100}
      ]
    }
    """

    @Test func userCatalogChangesPricesAddsModelsAndKeepsTheRest() throws {
        let merged = try TestSupport.bundled().merging(json: Array(Self.user.utf8), origin: "user.json")
        let gpt4o = try #require(merged.model(named: "gpt-4o"))
        #expect(gpt4o.price == ModelPrice(standard: .init(input: try Money(perMillionTokens: "2.00"), output: try Money(perMillionTokens: "8.00")),
                                          source: "negotiated contract #42", date: "2026-11-01"))
        #expect(gpt4o.contextWindow == 128_000 && gpt4o.image != nil)  // untouched fields kept
        #expect(merged.model(named: "llama3.1")?.contextWindow == 8192)
        #expect(try merged.resolve("my-llama").model.name == "llama3.1")
        let acme = try #require(merged.model(named: "acme-chat"))
        #expect(acme.encoding == .approximate(using: "o200k_base"))
        #expect(acme.price?.standard == .init(input: Money(picoUSD: 300_000), cachedInput: Money(picoUSD: 30_000), output: Money(picoUSD: 1_200_000)))
        #expect(merged.models.count == (try TestSupport.bundled()).models.count + 2)
        #expect(try TestSupport.bundled().model(named: "gpt-4o")?.price?.standard.input.picoUSD == 2_500_000)  // bundled unchanged
    }

    @Test func modelsWithoutAPriceAreRefusedForBilling() throws {
        let merged = try TestSupport.bundled().merging(json: Array(Self.user.utf8), origin: "user.json")
        #expect(throws: CatalogError.unpriced(model: "gpt-4")) { try merged.model(named: "gpt-4")!.billingPrice() }
        #expect(throws: CatalogError.unpriced(model: "acme-unpriced")) { try merged.model(named: "acme-unpriced")!.billingPrice() }
        #expect(!merged.pricedModels.contains { $0.name == "gpt-4" || $0.name == "acme-unpriced" })
    }

    @Test func userCatalogSetsHiddenOutputOnABundledOrNewModel() throws {
        let user = #"""
        {"format": 1, "models": [
          {"name": "gpt-4o", "hidden_output": true},
          {"name": "o3", "hidden_output": false},
          {"name": "acme-think", "provider": "acme", "encoding": "o200k_base", "context_window": 1000, "max_output_tokens": 100,
           "hidden_output": true},
          {"name": "acme-plain", "provider": "acme", "encoding": "o200k_base", "context_window": 1000, "max_output_tokens": 100}
        ]}
        """#
        let merged = try TestSupport.bundled().merging(json: Array(user.utf8), origin: "user.json")
        #expect(merged.model(named: "gpt-4o")?.hiddenOutput == true)
        #expect(merged.model(named: "o3")?.hiddenOutput == false)
        #expect(merged.model(named: "acme-think")?.hiddenOutput == true)
        #expect(merged.model(named: "acme-plain")?.hiddenOutput == false)  // absent: false
        #expect(merged.model(named: "gpt-5")?.hiddenOutput == true)  // untouched: kept
    }

    @Test func userCatalogSetsOrRemovesMaxInputTokens() throws {
        let user = #"""
        {"format": 1, "models": [
          {"name": "gpt-5", "max_input_tokens": null},
          {"name": "gpt-4o", "context_window": 100000, "max_input_tokens": 90000},
          {"name": "acme-split", "provider": "acme", "encoding": "o200k_base", "context_window": 1000, "max_input_tokens": 600,
           "max_output_tokens": 500}
        ]}
        """#
        let merged = try TestSupport.bundled().merging(json: Array(user.utf8), origin: "user.json")
        #expect(merged.model(named: "gpt-5")?.maxInputTokens == nil && merged.model(named: "gpt-5")?.contextWindow == 400_000)
        #expect(merged.model(named: "gpt-4o")?.maxInputTokens == 90_000 && merged.model(named: "gpt-4o")?.contextWindow == 100_000)
        let acme = try #require(merged.model(named: "acme-split"))
        #expect(acme.maxInputTokens == 600)
        #expect(acme.contextOverflow(promptTokens: 600, outputTokens: 400) == nil)
        #expect(acme.contextOverflow(promptTokens: 601, outputTokens: 0) == .inputTooLong(promptTokens: 601, maxInputTokens: 600))
        #expect(acme.contextOverflow(promptTokens: 600, outputTokens: 401) == .contextExceeded(promptTokens: 600, outputTokens: 401, contextWindow: 1000))
        #expect(merged.model(named: "gpt-5-mini")?.maxInputTokens == 272_000)  // untouched: kept
    }

    @Test func userCatalogMayNotReuseAnotherModelsName() throws {
        let clash = #"{"format": 1, "models": [{"name": "llama3.1", "aliases": ["gpt-4o"]}]}"#
        #expect(throws: CatalogError.duplicateName(origin: "user.json", name: "gpt-4o",
                                                   firstEntry: "bundled catalog models[0] \"gpt-4o\"", secondEntry: "models[0] \"llama3.1\"")) {
            try TestSupport.bundled().merging(json: Array(clash.utf8), origin: "user.json")
        }
    }

    @Test func mergesFromAFileAndReportsMissingFiles() throws {
        let path = try TestSupport.temporaryFile(Self.user, name: "user.json")
        #expect(try TestSupport.bundled().merging(fileAt: path).model(named: "acme-chat") != nil)
        #expect(throws: CatalogError.fileNotFound(path: "/nonexistent/catalog.json")) {
            try TestSupport.bundled().merging(fileAt: "/nonexistent/catalog.json")
        }
    }
}
