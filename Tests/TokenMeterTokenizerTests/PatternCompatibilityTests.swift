import Testing
@testable import TokenMeterTokenizer

@Suite struct PatternCompatibilityTests {
    @Test func propertiesGainTheirAdditionsInsideAndOutsideClasses() {
        let additions: [String: [ClosedRange<UInt32>]] = ["N": [0x1D2C0...0x1D2D3], "L": [0x88F...0x88F]]
        #expect(PatternCompatibility.augment(#"\p{N}{1,3}"#, additions: additions) == #"[\p{N}\x{1D2C0}-\x{1D2D3}]{1,3}"#)
        #expect(PatternCompatibility.augment(#"[^\r\p{L}]"#, additions: additions) == #"[^\r\p{L}\x{88F}]"#)
        #expect(PatternCompatibility.augment(#"\p{Lu}"#, additions: additions) == #"\p{Lu}"#)
    }

    @Test func whiteSpaceIsUnicodeWhiteSpaceNotPCREs() throws {
        let ws = PatternCompatibility.whiteSpace
        #expect(PatternCompatibility.augment(#"\s+(?!\S)"#, additions: [:]) == "[\(ws)]+(?![^\(ws)])")
        #expect(PatternCompatibility.augment(#"[^\s\p{L}]"#, additions: [:]) == "[^\(ws)\\p{L}]")
        // U+180E is not white space (Unicode 6.3+): " \u{180E}" is one punctuation piece, as in
        // tiktoken (ids from tiktoken 0.14.0).
        let enc = try Encoding.named(.cl100k_base)
        #expect(enc.encode("x \u{180E}\u{180E}") == [87, 87189, 254, 236, 157, 254, 236])
        #expect(enc.encode(" \u{180E}1") == [87189, 254, 236, 16])
    }
}
