import Testing
import TokenMeterTestSupport
@testable import TokenMeterTokenizer

@Suite struct AsciiPieceTests {
    /// The pieces of the regex alone, for comparison.
    /// The regex's pieces: the compatibility pattern, which is tiktoken's everywhere (the verbatim one is only
    /// used where it agrees).
    static func regexPieces(_ enc: Encoding, _ bytes: [UInt8]) -> [Range<Int>] {
        let matcher = PieceMatcher(enc.compatiblePreTokenizer)
        var pieces: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return }
            var offset = 0
            while case let .piece(start, end) = matcher.next(in: base, count: b.count, from: offset) {
                pieces.append(start..<end)
                offset = end
            }
        }
        return pieces
    }

    static func splitterPieces(_ enc: Encoding, _ bytes: [UInt8]) -> [Range<Int>] {
        var splitter = PieceSplitter(enc)
        var pieces: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return }
            splitter.forEachPiece(base, b.count) { pieces.append($0..<$1) }
        }
        return pieces
    }

    /// Random text over every class the patterns tell apart, mostly ASCII with characters outside it that
    /// could change an ASCII piece (letters, a combining mark, spaces, digits, a dash, `ſ` and the Kelvin sign,
    /// which fold to `s` and `k`): the hand-written pieces must be the regex's, on both patterns.
    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func asciiPiecesEqualTheRegex(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        var rng = SeededGenerator(seed: 2026)
        let ascii = Array("aAbBzZsStTdDmMlLvVeErRkK09 \t\n\r\u{0B}\u{0C}'/-(.,;\"_!").map(String.init)
        // U+180E and U+1C89, U+A7CB: classed differently by PCRE2 10.42 and tiktoken (`ChangedScalars`), so the
        // pieces around them take the compatibility pattern.
        let other = ["é", "ſ", "\u{212A}", "\u{A0}", "\u{85}", "\u{2028}", "٣", "\u{301}", "日", "—", "ß", "ǅ", "ʰ", "É",
                     "\u{180E}", "\u{1C89}", "\u{A7CB}"]
        let fixed = ["don't", "DON'T", "I'm here", "they'll", "we'VE", "x'ſ", "x'S", " \n \n ", "  \n", "a\n\n  b",
                     "abc\u{301}", "HTTPServer", "helloWorld", "ABC123", "1234567", "((a))", " (", "\t(", "a  b",
                     "a \u{A0}b", "//\n/x", "}\n/", "x\r\n\r\ny", "'", "''s", "' s", "\u{0B}x", "end   "]
        var texts = fixed
        for _ in 0..<30_000 {
            let length = Int.random(in: 1...24, using: &rng)
            texts.append((0..<length).map { _ in
                Int.random(in: 0..<10, using: &rng) == 0 ? other.randomElement(using: &rng)! : ascii.randomElement(using: &rng)!
            }.joined())
        }
        var mismatches = 0
        for text in texts {
            let bytes = Array(text.utf8)
            let expected = Self.regexPieces(enc, bytes)
            let found = Self.splitterPieces(enc, bytes)
            if found != expected {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("\(text.debugDescription): \(found) vs the regex's \(expected)")
                }
            }
        }
        #expect(mismatches == 0)
    }
}
