import Foundation
import Testing
import TokenMeterMoney
import TokenMeterTokenizer
@testable import TokenMeterCatalog

@Suite struct BundledCatalogTests {
    /// docs/reference/PRICES.md (litellm 1.110.2): model, input, cached input, output (USD per 1M),
    /// max input tokens, max output tokens.
    static let facts: [(String, String, String?, String, Int, Int)] = [
        ("gpt-4o", "2.50", "1.25", "10.00", 128000, 16384),
        ("gpt-4o-2024-05-13", "5.00", nil, "15.00", 128000, 4096),
        ("gpt-4o-mini", "0.15", "0.075", "0.60", 128000, 16384),
        ("gpt-4.1", "2.00", "0.50", "8.00", 1047576, 32768),
        ("gpt-4.1-mini", "0.40", "0.10", "1.60", 1047576, 32768),
        ("gpt-4.1-nano", "0.10", "0.025", "0.40", 1047576, 32768),
        ("o1", "15.00", "7.50", "60.00", 200000, 100000),
        ("o3", "2.00", "0.50", "8.00", 200000, 100000),
        ("o3-mini", "1.10", "0.55", "4.40", 200000, 100000),
        ("o4-mini", "1.10", "0.275", "4.40", 200000, 100000),
        ("gpt-5", "1.25", "0.125", "10.00", 272000, 128000),
        ("gpt-5-mini", "0.25", "0.025", "2.00", 272000, 128000),
        ("gpt-5-nano", "0.05", "0.005", "0.40", 272000, 128000),
        ("gpt-5-chat-latest", "1.25", "0.125", "10.00", 128000, 16384),
        ("gpt-4-turbo", "10.00", nil, "30.00", 128000, 4096),
        ("gpt-4", "30.00", nil, "60.00", 8192, 4096),
        ("gpt-3.5-turbo", "0.50", nil, "1.50", 16385, 4096),
        ("gpt-5.1", "1.25", "0.125", "10.00", 272000, 128000),
        ("gpt-5.2", "1.75", "0.175", "14.00", 272000, 128000),
        ("gpt-5.4", "2.50", "0.25", "15.00", 1050000, 128000),
        ("gpt-5.4-mini", "0.75", "0.075", "4.50", 272000, 128000),
        ("gpt-5.4-nano", "0.20", "0.02", "1.25", 272000, 128000),
        ("gpt-5.5", "5.00", "0.50", "30.00", 1050000, 128000),
        ("o1-pro", "150", nil, "600", 200000, 100000),
        ("o3-pro", "20", nil, "80", 200000, 100000),
        ("gpt-5-pro", "15", nil, "120", 400000, 272000),
    ]

    /// docs/reference/PRICES.md, "Context windows": the whole context (prompt plus output) where it is larger
    /// than litellm's max_input_tokens; every other OpenAI model's window equals its max_input_tokens.
    static let totalContext: [String: Int] = [
        "gpt-5": 400_000, "gpt-5-mini": 400_000, "gpt-5-nano": 400_000, "gpt-5.1": 400_000, "gpt-5.2": 400_000,
        "gpt-5.4-mini": 400_000, "gpt-5.4-nano": 400_000,
    ]

    @Test func contextWindowIsTheWholeContextAndMaxInputTokensTheLargestPrompt() throws {
        let catalog = try TestSupport.bundled()
        for m in catalog.models where m.provider == "openai" {
            let maxInput = try #require(m.maxInputTokens, "\(m.name) has no max_input_tokens")
            #expect(m.contextWindow == Self.totalContext[m.name] ?? maxInput, "\(m.name)")
        }
        for m in catalog.models where m.provider == "ollama" { #expect(m.maxInputTokens == nil, "\(m.name)") }
        // FACTS.md section 3: the gpt-5 family's context is 272k input + 128k output = 400k.
        let gpt5 = try #require(catalog.model(named: "gpt-5"))
        #expect(gpt5.maxInputTokens == 272_000 && gpt5.contextWindow == 400_000 && gpt5.maxOutputTokens == 128_000)
        #expect(catalog.model(named: "gpt-5.4")?.contextWindow == 1_050_000)
        #expect(catalog.model(named: "gpt-5-pro")?.contextWindow == 400_000)
    }

    @Test func gpt5TakesA200kPromptWithA100kCapButNotA272kPlusOnePrompt() throws {
        let gpt5 = try #require(try TestSupport.bundled().model(named: "gpt-5"))
        #expect(gpt5.contextOverflow(promptTokens: 200_000, outputTokens: 100_000) == nil)
        #expect(gpt5.contextOverflow(promptTokens: 272_000, outputTokens: 128_000) == nil)
        #expect(gpt5.contextOverflow(promptTokens: 272_001, outputTokens: 0) == .inputTooLong(promptTokens: 272_001, maxInputTokens: 272_000))
        #expect(gpt5.outputRoom(promptTokens: 200_000) == 200_000)
    }

    @Test func everyOpenAIModelOfFactsSection3HasItsPricesAndLimits() throws {
        let catalog = try TestSupport.bundled()
        for (name, input, cached, output, ctx, maxOut) in Self.facts {
            let m = try #require(catalog.model(named: name), "\(name) missing")
            let p = try m.billingPrice()
            #expect(p.standard.input == (try Money(perMillionTokens: input)), "\(name) input")
            #expect(p.standard.cachedInput == (try cached.map { try Money(perMillionTokens: $0) }), "\(name) cached")
            #expect(p.standard.output == (try Money(perMillionTokens: output)), "\(name) output")
            #expect(m.maxInputTokens == ctx && m.maxOutputTokens == maxOut, "\(name) limits")
            #expect(p.source.contains("litellm 1.110.2") && p.date == "2026-11-25", "\(name) source/date")
            #expect(m.provider == "openai" && m.encoding.isExact)
        }
        // Long-context tiers of gpt-5.4 and gpt-5.5 (above 272k prompt tokens).
        let tier = try #require(catalog.model(named: "gpt-5.4")?.price?.longContext)
        #expect(tier.abovePromptTokens == 272_000)
        #expect(tier.rates == .init(input: try Money(perMillionTokens: "5.00"), cachedInput: try Money(perMillionTokens: "0.50"),
                                    output: try Money(perMillionTokens: "22.50")))
        #expect(catalog.model(named: "gpt-5.5")?.price?.longContext?.rates.output == (try Money(perMillionTokens: "45")))
    }

    /// docs/reference/PRICES.md's "reasoning" column (litellm's `supports_reasoning`): the OpenAI models
    /// whose reasoning tokens are billed but never streamed.
    static let reasoning: Set<String> = ["o1", "o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano",
                                         "gpt-5-chat-latest", "gpt-5.1", "gpt-5.2", "gpt-5.4", "gpt-5.4-mini",
                                         "gpt-5.4-nano", "gpt-5.5", "o1-pro", "o3-pro", "gpt-5-pro"]

    @Test func openAIReasoningModelsHaveHiddenOutputAndOllamaModelsDoNot() throws {
        let catalog = try TestSupport.bundled()
        #expect(catalog.model(named: "gpt-5")?.hiddenOutput == true)
        #expect(catalog.model(named: "o3")?.hiddenOutput == true)
        #expect(catalog.model(named: "gpt-4o")?.hiddenOutput == false)
        #expect(catalog.model(named: "llama3.1")?.hiddenOutput == false)
        // Ollama streams a reasoning model's thinking visibly (`delta.reasoning`): nothing is hidden.
        #expect(catalog.model(named: "deepseek-r1")?.hiddenOutput == false)
        #expect(catalog.model(named: "gpt-oss")?.hiddenOutput == false)
        #expect(Set(catalog.models.filter(\.hiddenOutput).map(\.name)) == Self.reasoning)
    }

    @Test func openAIEncodingsAgreeWithTheTokenizersModelMap() throws {
        for m in try TestSupport.bundled().models where m.provider == "openai" {
            #expect(m.encoding == .exact(try ModelEncodings.encodingName(forModel: m.name)), "\(m.name)")
        }
    }

    @Test func localOllamaModelsAreFreeAndMarkedApproximate() throws {
        let catalog = try TestSupport.bundled()
        let local = catalog.models.filter { $0.provider == "ollama" }
        #expect(Set(local.map(\.name)).isSuperset(of: ["llama3.1", "llama3.2", "llama3.3", "qwen2.5", "mistral"]))
        for m in local {
            let p = try m.billingPrice()
            #expect(p.standard.input == .zero && p.standard.output == .zero, "\(m.name)")
            #expect(!p.source.isEmpty && ModelPatch.isISODate(p.date))
            if m.name != "gpt-oss" { #expect(m.encoding == .approximate(using: "cl100k_base"), "\(m.name)") }
        }
        #expect(catalog.model(named: "gpt-oss")?.encoding == .exact("o200k_harmony"))
    }

    @Test func everyBundledModelIsPricedWithSourceAndDate() throws {
        let catalog = try TestSupport.bundled()
        #expect(catalog.models.count == 57)  // 28 OpenAI, 10 local, 19 Claude
        #expect(catalog.pricedModels.count == catalog.models.count)
        for m in catalog.models {
            #expect(m.price.map { !$0.source.isEmpty && ModelPatch.isISODate($0.date) } == true, "\(m.name)")
        }
    }

    /// docs/reference/PRICES.md, "Service tiers" (litellm 1.110.2's `*_flex` and `*_priority` keys):
    /// model → tier → (input, cached input, output) in USD per 1M tokens.
    static let tiers: [String: [String: (String, String?, String)]] = [
        "gpt-4o": ["priority": ("4.25", "2.125", "17.00")],
        "gpt-4o-2024-05-13": ["priority": ("8.75", nil, "26.25")],
        "gpt-4o-mini": ["priority": ("0.25", "0.125", "1.00")],
        "gpt-4.1": ["priority": ("3.50", "0.875", "14.00")],
        "gpt-4.1-mini": ["priority": ("0.70", "0.175", "2.80")],
        "gpt-4.1-nano": ["priority": ("0.20", "0.05", "0.80")],
        "o3": ["flex": ("1.00", "0.25", "4.00"), "priority": ("3.50", "0.875", "14.00")],
        "o4-mini": ["flex": ("0.55", "0.138", "2.20"), "priority": ("2.00", "0.50", "8.00")],
        "gpt-5": ["flex": ("0.625", "0.0625", "5.00"), "priority": ("2.50", "0.25", "20.00")],
        "gpt-5-mini": ["flex": ("0.125", "0.0125", "1.00"), "priority": ("0.45", "0.045", "3.60")],
        "gpt-5-nano": ["flex": ("0.025", "0.0025", "0.20")],
        "gpt-5.1": ["flex": ("0.625", "0.0625", "5.00"), "priority": ("2.50", "0.25", "20.00")],
        "gpt-5.2": ["flex": ("0.875", "0.0875", "7.00"), "priority": ("3.50", "0.35", "28.00")],
        "gpt-5.4": ["flex": ("1.25", "0.13", "7.50"), "priority": ("5.00", "0.50", "30.00")],
        "gpt-5.4-mini": ["flex": ("0.375", "0.0375", "2.25"), "priority": ("1.50", "0.15", "9.00")],
        "gpt-5.4-nano": ["flex": ("0.10", "0.01", "0.625")],
        "gpt-5.5": ["flex": ("2.50", "0.25", "15.00"), "priority": ("12.50", "1.25", "75.00")],
    ]

    @Test func serviceTierPricesAreTheRecordedOnesWithSourceAndDate() throws {
        let catalog = try TestSupport.bundled()
        for m in catalog.models {
            let price = try #require(m.price)
            let expected = Self.tiers[m.name] ?? [:]
            #expect(Set(price.serviceTiers.keys) == Set(expected.keys), "\(m.name)")
            for (name, (input, cached, output)) in expected {
                let tier = try #require(price.serviceTiers[name])
                #expect(tier.rates == .init(input: try Money(perMillionTokens: input), cachedInput: try cached.map { try Money(perMillionTokens: $0) },
                                            output: try Money(perMillionTokens: output)), "\(m.name) \(name)")
                #expect(tier.source.contains("litellm 1.110.2") && tier.source.contains("_\(name)") && tier.date == "2026-12-06")
            }
        }
        // FACTS.md section 3's priority examples.
        #expect(catalog.model(named: "gpt-4o")?.price?.serviceTiers["priority"]?.rates.input == (try Money(perMillionTokens: "4.25")))
        #expect(catalog.model(named: "gpt-5")?.price?.serviceTiers["priority"]?.rates.output == (try Money(perMillionTokens: "20.00")))
        // Flex has its own long-context rates on gpt-5.4 and gpt-5.5; priority has none there.
        let flex = try #require(catalog.model(named: "gpt-5.4")?.price?.serviceTiers["flex"]?.longContext)
        #expect(flex.abovePromptTokens == 272_000)
        #expect(flex.rates == .init(input: try Money(perMillionTokens: "2.50"), cachedInput: try Money(perMillionTokens: "0.25"),
                                    output: try Money(perMillionTokens: "11.25")))
        #expect(catalog.model(named: "gpt-5.5")?.price?.serviceTiers["flex"]?.longContext?.rates.output == (try Money(perMillionTokens: "22.50")))
        #expect(catalog.model(named: "gpt-5.5")?.price?.serviceTiers["priority"]?.longContext == nil)
    }

    @Test func bundledCatalogSourceMatchesTheDataFile() throws {
        let file = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("Sources/TokenMeterCatalog/Resources/catalog.json"), encoding: .utf8)
        #expect(file.trimmingCharacters(in: .newlines) == BundledCatalog.json.trimmingCharacters(in: .newlines),
                "catalog.json changed: run scripts/embed-catalog.sh")
    }

    @Test func imageRulesFollowTheVisionGuide() throws {
        let c = try TestSupport.bundled()
        #expect(c.model(named: "gpt-4o")?.image == ImageTokenRule(scheme: .tiles(base: 85, perTile: 170)))
        #expect(c.model(named: "gpt-4o-mini")?.image == ImageTokenRule(scheme: .tiles(base: 2833, perTile: 5667)))
        #expect(c.model(named: "o1")?.image == ImageTokenRule(scheme: .tiles(base: 75, perTile: 150)))
        #expect(c.model(named: "gpt-5")?.image == ImageTokenRule(scheme: .tiles(base: 70, perTile: 140)))
        #expect(c.model(named: "gpt-4.1-mini")?.image == ImageTokenRule(scheme: .patches(multiplier: ExactRatio(decimal: "1.62")!)))
        #expect(c.model(named: "gpt-4.1-nano")?.image == ImageTokenRule(scheme: .patches(multiplier: ExactRatio(decimal: "2.46")!)))
        #expect(c.model(named: "o4-mini")?.image == ImageTokenRule(scheme: .patches(multiplier: ExactRatio(decimal: "1.72")!)))
        #expect(c.model(named: "gpt-4")?.image == nil && c.model(named: "o3-mini")?.image == nil)
        #expect(c.model(named: "gpt-5.1")?.image?.note != nil)  // assumed, so counts say approximate
    }
}
