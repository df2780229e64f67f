import Foundation
import Testing
import TokenMeterMoney
@testable import TokenMeterCatalog
import TokenMeterJSON

@Suite struct EstimatorTests {
    func estimator() throws -> Estimator { Estimator(catalog: try TestSupport.bundled(), counters: TiktokenCounters()) }

    @Test(arguments: ["gpt-4o", "gpt-4o-mini", "gpt-4.1-nano", "o3", "gpt-3.5-turbo"])
    func costsAreCatalogPricesTimesCounts(model: String) async throws {
        let report = try await estimator().estimate([.requestFile(path: TestSupport.fixture("support-chat.json"))], models: .named([model]))
        let row = try #require(report.rows.first)
        let rates = try #require(row.model.price?.standard)
        #expect(row.maxOutputTokens == 2000 && row.allowanceSource == .request)
        #expect(row.promptCost == rates.input.times(row.prompt.tokens))
        #expect(row.worstCaseCost == rates.input.times(row.prompt.tokens)! + rates.output.times(2000)!)
    }

    @Test func cookbookRequestOnGpt4oGivesExactFiguresToThePicoDollar() async throws {
        let report = try await estimator().estimate([.requestFile(path: TestSupport.fixture("cookbook-six-messages.json"))], models: .named(["gpt-4o"]))
        let row = try #require(report.rows.first)
        #expect(row.prompt.tokens == 124 && row.isExact && row.fitsContext)
        #expect(row.promptCost == Money(picoUSD: 124 * 2_500_000))                       // $0.00031
        #expect(row.worstCaseCost == Money(picoUSD: 124 * 2_500_000 + 1 * 10_000_000))    // max_tokens 1
    }

    @Test func outputAllowanceComesFromRequestThenOptionThenModel() async throws {
        let e = try estimator()
        let text = EstimateInput.text(name: "t", "Hello there")
        #expect(try await e.estimate([text], models: .named(["gpt-4o"])).rows[0].maxOutputTokens == 16_384)
        let opt = try await e.estimate([text], models: .named(["gpt-4o"]), options: .init(maxOutput: 100)).rows[0]
        #expect(opt.maxOutputTokens == 100 && opt.allowanceSource == .option)
        let big = try await e.estimate([text], models: .named(["gpt-4"]), options: .init(maxOutput: 5000)).rows[0]
        #expect(big.warnings == ["output allowance of 5000 tokens exceeds gpt-4's maximum of 4096; the provider would reject it"])
    }

    @Test func promptOverTheContextWindowIsFlagged() async throws {
        let long = String(repeating: "token ", count: 9000)  // about 9000 tokens, over gpt-4's 8192
        let report = try await estimator().estimate([.text(name: "long", long)], models: .named(["gpt-4", "gpt-4o"]))
        #expect(!report.rows[0].fitsContext && report.rows[1].fitsContext && report.anyOverContext)
        #expect(report.rows[0].warnings.first?.hasPrefix("prompt of \(report.rows[0].prompt.tokens) tokens exceeds gpt-4's context window of 8192 tokens") == true)
    }

    @Test func gpt5TakesA200kPromptWithA100kCapAndFlagsAPromptOverItsInputLimit() async throws {
        // One token per word (raw text), so the prompt is exactly the word count.
        let e = Estimator(catalog: try TestSupport.bundled(), counters: WordCounters())
        let words = { (n: Int) in EstimateInput.text(name: "p\(n)", String(repeating: "w ", count: n)) }
        let fits = try await e.estimate([words(200_000)], models: .named(["gpt-5"]), options: .init(maxOutput: 100_000, rawText: true)).rows[0]
        #expect(fits.fitsContext && fits.warnings.isEmpty && fits.maxOutputTokens == 100_000)
        let over = try await e.estimate([words(272_001)], models: .named(["gpt-5"]), options: .init(rawText: true)).rows[0]
        #expect(over.contextOverflow == .inputTooLong(promptTokens: 272_001, maxInputTokens: 272_000))
        #expect(over.warnings.first == "prompt of 272001 tokens exceeds gpt-5's input limit of 272000 tokens (of a 400000-token context); the provider would reject it")
        #expect(over.maxOutputTokens == 127_999, "the model's maximum, cut to what the context leaves")
    }

    @Test func aCapThatWouldBeSentMustFitBesideThePromptAndTheModelsOwnIsCutToFit() async throws {
        let user = #"""
        {"format": 1, "models": [{"name": "acme-small", "provider": "acme", "encoding": "o200k_base", "context_window": 150,
          "max_input_tokens": 100, "max_output_tokens": 100,
          "price": {"input": "1", "output": "2", "source": "test", "date": "2026-12-06"}}]}
        """#
        let e = Estimator(catalog: try TestSupport.bundled().merging(json: Array(user.utf8), origin: "user.json"), counters: WordCounters())
        let ninety = EstimateInput.text(name: "t", String(repeating: "w ", count: 90))
        let asked = try await e.estimate([ninety], models: .named(["acme-small"]), options: .init(maxOutput: 61, rawText: true)).rows[0]
        #expect(asked.contextOverflow == .contextExceeded(promptTokens: 90, outputTokens: 61, contextWindow: 150))
        #expect(asked.warnings.first == "prompt of 90 tokens plus an output allowance of 61 exceeds acme-small's context window of 150 tokens; the provider would reject it")
        let own = try await e.estimate([ninety], models: .named(["acme-small"]), options: .init(rawText: true)).rows[0]
        #expect(own.fitsContext && own.maxOutputTokens == 60 && own.allowanceSource == .model)
        #expect(own.worstCaseCost == Money(picoUSD: 90 * 1_000_000 + 60 * 2_000_000))
        #expect(try await e.estimate([ninety], models: .named(["acme-small"]), options: .init(maxOutput: 60, rawText: true)).rows[0].fitsContext)
    }

    @Test func aServiceTierPricesTheRowsAndAModelWithoutItShowsNoCost() async throws {
        let e = Estimator(catalog: try TestSupport.bundled(), counters: WordCounters())
        let input = EstimateInput.text(name: "t", String(repeating: "w ", count: 1000))
        let report = try await e.estimate([input], models: .named(["gpt-4o", "gpt-4.1"]),
                                          options: .init(maxOutput: 100, serviceTier: "priority", rawText: true))
        // gpt-4o priority (litellm 1.110.2): $4.25 input, $17.00 output per 1M.
        #expect(report.rows[0].promptCost == Money(picoUSD: 1000 * 4_250_000))
        #expect(report.rows[0].worstCaseCost == Money(picoUSD: 1000 * 4_250_000 + 100 * 17_000_000))
        let flex = try await e.estimate([input], models: .named(["gpt-4.1"]), options: .init(serviceTier: "flex", rawText: true))
        #expect(flex.rows[0].promptCost == nil && flex.rows[0].worstCaseCost == nil)
        #expect(flex.rows[0].warnings == ["gpt-4.1 has no \"flex\" service-tier price in the catalog for this prompt: no cost shown"])
        #expect(flex.totals[0].promptCost == nil && flex.totals[0].worstCaseCost == nil)
        let doc = try JSONParser.parse(flex.jsonText())
        guard case .array(let rows)? = doc["rows"], let row = rows.first else { Issue.record("no rows"); return }
        #expect(row["service_tier"] == .string("flex") && row["priced"] == .bool(false) && row["price_source"] == .null)
        let priority = try JSONParser.parse(report.jsonText())
        guard case .array(let prows)? = priority["rows"], let prow = prows.first else { Issue.record("no rows"); return }
        #expect(prow["price_date"] == .string("2026-12-06"))
    }

    @Test func compareListsEveryPricedModelCheapestFirst() async throws {
        let catalog = try TestSupport.bundled()
        let report = try await estimator().estimate([.requestFile(path: TestSupport.fixture("cookbook-weather-tool.json"))], models: .compare,
                                                    options: .init(maxOutput: 500))
        #expect(Set(report.rows.map(\.model.name)) == Set(catalog.pricedModels.map(\.name)))
        #expect(report.rows.count == catalog.pricedModels.count)
        let worst = report.rows.map { $0.worstCaseCost!.picoUSD }
        #expect(worst == worst.sorted())
        #expect(report.rows.last?.model.name == "o1-pro")
    }

    @Test func unpricedModelsShowNoCostAndAreLeftOutOfComparisons() async throws {
        let user = #"{"format": 1, "models": [{"name": "gpt-4", "price": null}]}"#
        let catalog = try TestSupport.bundled().merging(json: Array(user.utf8), origin: "user.json")
        let e = Estimator(catalog: catalog, counters: WordCounters())
        let row = try await e.estimate([.text(name: "t", "a b")], models: .named(["gpt-4"])).rows[0]
        #expect(row.promptCost == nil && row.worstCaseCost == nil)
        #expect(row.warnings == ["gpt-4 has no price in the catalog: refused for billing"])
        #expect(try await e.estimate([.text(name: "t", "a b")], models: .compare).rows.allSatisfy { $0.model.name != "gpt-4" })
    }

    @Test func manyInputsGiveRowsInInputOrderAndTotals() async throws {
        let inputs = (0..<20).map { EstimateInput.text(name: "p\($0)", String(repeating: "w ", count: $0 + 1)) }
        let report = try await Estimator(catalog: try TestSupport.bundled(), counters: WordCounters())
            .estimate(inputs, models: .named(["gpt-4o", "llama3.1"]), options: .init(maxOutput: 10, rawText: true))
        #expect(report.rows.map(\.input) == inputs.flatMap { [$0.name, $0.name] })
        #expect(report.totals.map(\.model) == ["gpt-4o", "llama3.1"])
        #expect(report.totals[0].promptTokens == (1...20).reduce(0, +))
        #expect(report.totals[0].promptCost == Money(picoUSD: 210 * 2_500_000))
        #expect(report.totals[0].worstCaseCost == Money(picoUSD: 210 * 2_500_000 + 200 * 10_000_000))
        #expect(report.totals[1].worstCaseCost == .zero && !report.totals[1].isExact)
    }

    @Test func foldersExpandToTheirFilesSorted() throws {
        let a = try TestSupport.temporaryFile("one", name: "b.txt")
        let dir = URL(fileURLWithPath: a).deletingLastPathComponent()
        try "two".write(to: dir.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        try "hidden".write(to: dir.appendingPathComponent(".h.txt"), atomically: true, encoding: .utf8)
        #expect(try EstimateInput.files([dir.path], asRequests: false) == [.textFile(path: dir.appendingPathComponent("a.txt").path), .textFile(path: a)])
        #expect(throws: EstimateError.inputNotFound(path: "/nonexistent/x")) { try EstimateInput.files(["/nonexistent/x"], asRequests: false) }
        let empty = dir.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        #expect(throws: EstimateError.emptyFolder(path: empty)) { try EstimateInput.files([empty], asRequests: true) }
    }

    @Test func errorsCarryTheirCategory() async throws {
        let e = try estimator()
        await #expect(throws: EstimateError.noModel(input: "t")) { try await e.estimate([.text(name: "t", "x")], models: .fromRequest) }
        await #expect(throws: EstimateError.catalog(.unknownModel(name: "gpt-9", suggestions: ["gpt-4", "gpt-5", "gpt-4o"]))) {
            try await e.estimate([.text(name: "t", "x")], models: .named(["gpt-9"]))
        }
        await #expect(throws: EstimateError.badRequest(input: "r", .malformedJSON(JSONSyntaxError(line: 1, column: 2, reason: "expected a member name in double quotes, found end of input")))) {
            try await e.estimate([.request(name: "r", Array("{".utf8))], models: .fromRequest)
        }
        #expect(EstimateError.catalog(.unknownModel(name: "x", suggestions: [])).category == .usage)
        #expect(EstimateError.badRequest(input: "r", .missingField(path: "messages")).category == .dataError)
        #expect(EstimateError.inputNotFound(path: "x").category == .noInput)
    }

    @Test func jsonReportHasTheFieldsScriptsNeed() async throws {
        let report = try await estimator().estimate([.requestFile(path: TestSupport.fixture("cookbook-six-messages.json"))], models: .named(["gpt-4o-2024-08-06"]))
        let doc = try JSONParser.parse(report.jsonText())
        guard case .array(let rows)? = doc["rows"], let row = rows.first else { Issue.record("no rows"); return }
        #expect(row["prompt_tokens"] == .number("124"))
        #expect(row["max_output_tokens"] == .number("1"))
        #expect(row["prompt_cost"] == .string("0.00031"))
        #expect(row["worst_case_cost"] == .string("0.00032"))
        #expect(row["exact"] == .bool(true))
        #expect(row["model"] == .string("gpt-4o") && row["match"] == .string("snapshot of gpt-4o"))
        #expect(row["fits_context"] == .bool(true))
        #expect(row["context_window"] == .number("128000") && row["max_input_tokens"] == .number("128000"))
        #expect(row["service_tier"] == .null && row["priced"] == .bool(true))
        #expect(row["hidden_output"] == .bool(false))
        #expect(doc["over_context"] == .bool(false))
        // Foundation agrees that it is valid JSON.
        #expect((try? JSONSerialization.jsonObject(with: Data(report.jsonText().utf8))) != nil)
    }
}
