import Testing
import TokenMeterTestSupport
import TokenMeterMoney
@testable import TokenMeterCatalog

@Suite struct PriceArithmeticTests {
    @Test func aMillionRandomRecordsSumTheSameBothWays() throws {
        let catalog = try TestSupport.bundled()
        let priced = catalog.models.filter { $0.provider == "openai" }
        var rng = SeededGenerator(seed: 2026)
        // Way 1: cost each record, add the costs. Way 2: add the tokens per model, cost the sums.
        var sumOfRecords = Money.zero
        var tokens = [String: (prompt: Int, cached: Int, completion: Int)]()
        for _ in 0..<1_000_000 {
            let model = priced[Int.random(in: 0..<priced.count, using: &rng)]
            let prompt = Int.random(in: 0...20_000, using: &rng)  // below every long-context threshold
            let cached = Int.random(in: 0...prompt, using: &rng)
            let completion = Int.random(in: 0...4_000, using: &rng)
            sumOfRecords += try model.billingPrice().cost(promptTokens: prompt, cachedTokens: cached, completionTokens: completion)
            let t = tokens[model.name] ?? (0, 0, 0)
            tokens[model.name] = (t.prompt + prompt, t.cached + cached, t.completion + completion)
        }
        var costOfSums = Money.zero
        for (name, t) in tokens {
            let r = try #require(catalog.model(named: name)?.price?.standard)
            costOfSums += r.input.times(t.prompt - t.cached)! + (r.cachedInput ?? r.input).times(t.cached)! + r.output.times(t.completion)!
        }
        #expect(sumOfRecords == costOfSums)
        #expect(sumOfRecords > Money(dollars: 1000))
    }

    @Test func costIsPriceTimesTokensToThePicoDollar() throws {
        let p = try #require(try TestSupport.bundled().model(named: "gpt-4o-mini")?.price)
        // 124 prompt tokens × $0.15/1M = $0.0000186; + 1 output token × $0.60/1M.
        #expect(try p.cost(promptTokens: 124, completionTokens: 0) == (try Money(parsing: "0.0000186")))
        #expect(try p.cost(promptTokens: 124, completionTokens: 1).description == "$0.0000192")
        // Cached tokens at the cache rate: 1000 prompt of which 600 cached.
        #expect(try p.cost(promptTokens: 1000, cachedTokens: 600, completionTokens: 0).picoUSD == 400 * 150_000 + 600 * 75_000)
        // One token of gpt-5-nano input prints with all its digits.
        #expect(try TestSupport.bundled().model(named: "gpt-5-nano")!.price!.cost(promptTokens: 1, completionTokens: 0).description == "$0.00000005")
    }

    @Test func noCacheDiscountBillsCachedTokensAtTheInputRate() throws {
        let p = try #require(try TestSupport.bundled().model(named: "gpt-4")?.price)
        #expect(try p.cost(promptTokens: 10, cachedTokens: 10, completionTokens: 0) == (try p.cost(promptTokens: 10, completionTokens: 0)))
    }

    @Test func longContextRatesApplyAbove272kPromptTokens() throws {
        let p = try #require(try TestSupport.bundled().model(named: "gpt-5.4")?.price)
        #expect(try p.cost(promptTokens: 272_000, completionTokens: 1000) == Money(picoUSD: 272_000 * 2_500_000 + 1000 * 15_000_000))
        #expect(try p.cost(promptTokens: 272_001, completionTokens: 1000) == Money(picoUSD: 272_001 * 5_000_000 + 1000 * 22_500_000))
    }

    @Test func serviceTierCostsUseTheTiersRates() throws {
        let p = try #require(try TestSupport.bundled().model(named: "gpt-5")?.price)
        // 1000 prompt tokens of which 400 cached, 500 completion tokens.
        let standard: Int64 = 600 * 1_250_000 + 400 * 125_000 + 500 * 10_000_000
        let priority: Int64 = 600 * 2_500_000 + 400 * 250_000 + 500 * 20_000_000
        let flex: Int64 = 600 * 625_000 + 400 * 62_500 + 500 * 5_000_000
        #expect(try p.cost(promptTokens: 1000, cachedTokens: 400, completionTokens: 500).picoUSD == standard)
        #expect(try p.cost(promptTokens: 1000, cachedTokens: 400, completionTokens: 500, serviceTier: nil).picoUSD == standard)
        #expect(try p.cost(promptTokens: 1000, cachedTokens: 400, completionTokens: 500, serviceTier: "default").picoUSD == standard)
        #expect(try p.cost(promptTokens: 1000, cachedTokens: 400, completionTokens: 500, serviceTier: "priority").picoUSD == priority)
        #expect(try p.cost(promptTokens: 1000, cachedTokens: 400, completionTokens: 500, serviceTier: "flex").picoUSD == flex)
        #expect(p.provenance(ofServiceTier: "flex")?.date == "2026-12-06" && p.provenance(ofServiceTier: nil)?.date == "2026-11-25")
    }

    @Test func aTierTheCatalogCannotPriceIsAnErrorNeverAnotherTiersPrice() throws {
        let catalog = try TestSupport.bundled()
        let gpt41 = try #require(catalog.model(named: "gpt-4.1")?.price)
        #expect(gpt41.rates(forPromptTokens: 10, serviceTier: "flex") == nil)
        #expect(throws: CostError.unpricedServiceTier("flex", promptTokens: 10)) { try gpt41.cost(promptTokens: 10, completionTokens: 1, serviceTier: "flex") }
        #expect(throws: CostError.unpricedServiceTier("auto", promptTokens: 10)) { try gpt41.cost(promptTokens: 10, completionTokens: 1, serviceTier: "auto") }
        // gpt-5.4 above 272k: flex has its own long-context rates, priority has none in the catalog.
        let gpt54 = try #require(catalog.model(named: "gpt-5.4")?.price)
        #expect(try gpt54.cost(promptTokens: 272_001, completionTokens: 1000, serviceTier: "flex")
                == Money(picoUSD: 272_001 * 2_500_000 + 1000 * 11_250_000))
        #expect(try gpt54.cost(promptTokens: 272_000, completionTokens: 1000, serviceTier: "priority")
                == Money(picoUSD: 272_000 * 5_000_000 + 1000 * 30_000_000))
        #expect(throws: CostError.unpricedServiceTier("priority", promptTokens: 272_001)) {
            try gpt54.cost(promptTokens: 272_001, completionTokens: 0, serviceTier: "priority")
        }
    }

    @Test func impossibleCountsAndOverflowAreErrors() throws {
        let p = try #require(try TestSupport.bundled().model(named: "o1-pro")?.price)
        #expect(throws: CostError.invalidCounts(prompt: 5, cached: 6, completion: 0)) { try p.cost(promptTokens: 5, cachedTokens: 6, completionTokens: 0) }
        #expect(throws: CostError.overflow(prompt: 0, completion: Int.max / 2)) { try p.cost(promptTokens: 0, completionTokens: Int.max / 2) }
    }

    @Test func exactRatiosMultiplyAndRoundUp() throws {
        let r = try #require(ExactRatio(decimal: "1.62"))
        #expect(r.numerator == 162 && r.denominator == 100 && r.description == "1.62")
        #expect(r.multiplyRoundingUp(1024) == 1659)   // 1658.88 → 1659
        #expect(r.multiplyRoundingUp(100) == 162)     // exact stays exact
        #expect(ExactRatio(decimal: "2.46")!.multiplyRoundingUp(1536) == 3779)  // 3778.56
        #expect(ExactRatio(decimal: "2")?.description == "2")
        #expect(ExactRatio(decimal: "1.") == nil && ExactRatio(decimal: "-1") == nil && ExactRatio(decimal: "1e3") == nil)
    }
}
