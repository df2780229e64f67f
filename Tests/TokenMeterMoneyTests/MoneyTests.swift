import Testing
import TokenMeterMoney

@Suite struct MoneyTests {
    @Test func perMillionPricesBecomeWholePicoDollarsPerToken() throws {
        // docs/reference/PRICES.md: gpt-4o-mini input $0.15 / 1M, gpt-5-nano cached $0.005 / 1M.
        #expect(try Money(perMillionTokens: "0.15").picoUSD == 150_000)
        #expect(try Money(perMillionTokens: "0.005").picoUSD == 5_000)
        #expect(try Money(perMillionTokens: "600").picoUSD == 600_000_000)
        #expect(throws: MoneyParseError.tooManyDecimals("0.0000001")) { try Money(perMillionTokens: "0.0000001") }
    }

    @Test func printsEnoughDigitsForOneTokenAndAtLeastCents() throws {
        #expect(try Money(perMillionTokens: "0.15").description == "$0.00000015")
        #expect(Money(dollars: 12).description == "$12.00")
        #expect(try Money(parsing: "12.5").description == "$12.50")
        #expect(try Money(parsing: "-3").description == "-$3.00")
        #expect(Money(picoUSD: 1).description == "$0.000000000001")
        #expect(try Money(parsing: "0.000002").decimalString == "0.000002")
    }

    @Test func parsingRefusesWhatIsNotAnAmount() {
        #expect(throws: MoneyParseError.empty) { try Money(parsing: " ") }
        #expect(throws: MoneyParseError.invalidCharacter("1e5")) { try Money(parsing: "1e5") }
        #expect(throws: MoneyParseError.invalidCharacter("1.")) { try Money(parsing: "1.") }
        #expect(throws: MoneyParseError.outOfRange("99999999")) { try Money(parsing: "99999999") }
        #expect(throws: MoneyParseError.tooManyDecimals("0.0000000000001")) { try Money(parsing: "0.0000000000001") }
    }

    @Test func costsAreExactIntegersAndSumsAgree() throws {
        let price = try Money(perMillionTokens: "2.50")  // 2,500,000 pUSD per token
        var sumOfRecords = Money.zero
        var tokens = 0
        for n in [1, 7, 999, 123_456] {
            sumOfRecords += price.times(n)!
            tokens += n
        }
        #expect(sumOfRecords == price.times(tokens)!)
        #expect(sumOfRecords.picoUSD == 2_500_000 * 124_463)
        #expect(price.tokensAffordable(with: try Money(parsing: "0.01")) == 4000)
        #expect(Money(picoUSD: .max).times(2) == nil)
    }
}
