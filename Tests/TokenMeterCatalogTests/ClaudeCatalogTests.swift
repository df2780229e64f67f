import Testing
import TokenMeterMoney
@testable import TokenMeterCatalog

/// The Claude entries of the bundled catalog, against docs/reference/CLAUDE-MODELS.md (litellm 1.110.2 and
/// Anthropic's pricing page, read 2026-12-06), and the price arithmetic of cache writes.
@Suite struct ClaudeCatalogTests {
    private func usd(_ text: String) throws -> Money { try Money(perMillionTokens: text) }

    /// model → (input, 5m write, 1h write, cache read, output) in USD per 1M tokens, context, max output, margin %.
    static let recorded: [String: (String, String, String, String, String, Int, Int, Int)] = [
        "claude-sonnet-4-5": ("3.00", "3.75", "6.00", "0.30", "15.00", 200_000, 64_000, 35),
        "claude-haiku-4-5": ("1.00", "1.25", "2.00", "0.10", "5.00", 200_000, 64_000, 35),
        "claude-opus-4-7": ("5.00", "6.25", "10.00", "0.50", "25.00", 1_000_000, 128_000, 80),
        "claude-opus-5-5": ("4.00", "5.00", "8.00", "0.20", "20.00", 1_000_000, 128_000, 80),
        "claude-sonnet-5-5": ("2.00", "2.50", "4.00", "0.10", "10.00", 1_000_000, 128_000, 80),
    ]

    @Test("Claude models carry input, output, cache-write (5 m and 1 h) and cache-read prices, limits, a stand-in count with its margin")
    func recordedPrices() throws {
        let catalog = try ModelCatalog.bundled()
        for (name, (input, write5m, write1h, read, output, context, maxOutput, margin)) in Self.recorded {
            let m = try #require(catalog.model(named: name), "\(name)")
            let rates = try m.billingPrice().standard
            let expected = ModelPrice.Rates(input: try usd(input), cachedInput: try usd(read), output: try usd(output),
                                            cacheWrite5m: try usd(write5m), cacheWrite1h: try usd(write1h))
            #expect(rates == expected, "\(name)")
            #expect(m.contextWindow == context && m.maxOutputTokens == maxOutput, "\(name)")
            #expect(m.provider == "anthropic" && m.encoding == .approximate(using: "cl100k_base"), "\(name)")
            #expect(m.estimateMarginPercent == margin, "\(name)")
        }
        let claude = catalog.models.filter { $0.provider == "anthropic" }
        #expect(claude.count == 19)
        for m in claude {
            let rates = try m.billingPrice().standard
            #expect(rates.cacheWrite5m != nil && rates.cacheWrite1h != nil && rates.cachedInput != nil, "\(m.name)")
            #expect(m.estimateMarginPercent > 0, "\(m.name)")
        }
        #expect(try catalog.resolve("claude-opus-4-7-20260416").model.name == "claude-opus-4-7")
    }

    @Test("a request with cache reads and 5-minute and 1-hour writes costs each part at its own price, exactly")
    func cacheWriteArithmetic() throws {
        let price = try #require(try ModelCatalog.bundled().model(named: "claude-sonnet-4-5")?.price)
        // 1,000 prompt tokens: 200 read, 300 written (100 of them for an hour), 500 uncached; 50 output.
        let cost = try price.cost(promptTokens: 1_000, cachedTokens: 200, completionTokens: 50, serviceTier: nil,
                                  cacheWriteTokens: 300, cacheWrite1hTokens: 100)
        // 500 × $3 + 200 × $0.30 + 200 × $3.75 + 100 × $6 + 50 × $15, per million: $0.00366.
        #expect(cost == Money(picoUSD: 500 * 3_000_000 + 200 * 300_000 + 200 * 3_750_000 + 100 * 6_000_000 + 50 * 15_000_000))
        #expect(cost.decimalString == "0.00366")
        #expect(throws: CostError.self) {
            try price.cost(promptTokens: 100, cachedTokens: 60, completionTokens: 0, serviceTier: nil, cacheWriteTokens: 50)
        }
    }

    @Test("a count raised by a margin rounds up; a margin is refused on an exact encoding")
    func margins() throws {
        #expect(CatalogModel.raise(100, byPercent: 35) == 135)
        #expect(CatalogModel.raise(1, byPercent: 35) == 2)
        #expect(CatalogModel.raise(0, byPercent: 80) == 0)
        #expect(CatalogModel.raise(1_000_001, byPercent: 80) == 1_800_002)
        let bad = #"{"format": 1, "models": [{"name": "gpt-4o", "estimate_margin_percent": 10}]}"#
        #expect(throws: CatalogError.self) { try ModelCatalog.bundled().merging(json: Array(bad.utf8), origin: "bad.json") }
    }
}
