import Testing
import TokenMeterTestSupport
@testable import TokenMeterTokenizer

/// `LetterPiece` checked against cl100k's regex on random texts of letters from many scripts and the
/// characters around them that matter: marks and numbers outside ASCII, a `'` (contractions), CR and LF,
/// non-ASCII punctuation and spaces, a letter above U+FFFF and one PCRE2 10.42 does not know.
@Suite struct LetterPieceTests {
    static let atoms = ["a", "Zq", " ", "'", "'s", "'LL", "1", "\r\n", "\n", ".", "é", "ж", " Все", "Ω", "日本", "の", "ก",
                        "\u{0301}", "\u{0E31}", "٣", "²", "Ⅻ", "«", "—", "\u{A0}", "\u{3000}", "、", "’", "ǅ", "ʰ", "ß",
                        "\u{1D400}", "\u{1C89}", "\u{180E}", "😀", "x\u{301}"]

    @Test func letterPiecesAgreeWithTheRegexOnEveryPrefix() throws {
        let enc = try Encoding.named(.cl100k_base)
        // The compatibility pattern: tiktoken's pieces even for the characters PCRE2 does not know, which
        // the shortcut must leave to the regex.
        let matcher = PieceMatcher(enc.compatiblePreTokenizer)
        var rng = SeededGenerator(seed: 0x1E77_E125)
        var finals = 0, wholes = 0, declined = 0
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 2...10, using: &rng)).map { _ in Self.atoms.randomElement(using: &rng)! }.joined()
            let bytes = Array(text.utf8)
            let all = Set(pieces(bytes, bytes.count, matcher).map { "\($0.0):\($0.1)" })
            for length in 1...bytes.count where length == bytes.count || bytes[length] & 0xC0 != 0x80 {
                let prefixPieces = pieces(bytes, length, matcher)
                try bytes.withUnsafeBufferPointer { b in
                    for (s, _) in prefixPieces {
                        guard let e = LetterPiece.end(b.baseAddress!, from: s, to: length, kinds: LetterPiece.table) else {
                            declined += 1
                            continue
                        }
                        let piece = String(decoding: bytes[s..<e], as: UTF8.self).debugDescription
                        if e < length {
                            // Final: a piece of this prefix and of the whole text.
                            finals += 1
                            try #require(prefixPieces.contains { $0 == (s, e) } && all.contains("\(s):\(e)"),
                                         "final \(piece) in \(text.debugDescription)")
                        } else {
                            // The whole rest of the prefix: its last piece.
                            wholes += 1
                            try #require(prefixPieces.last! == (s, length), "whole tail \(piece) in \(text.debugDescription)")
                        }
                    }
                }
            }
        }
        #expect(finals > 5_000 && wholes > 5_000 && declined > 5_000, "finals \(finals), whole tails \(wholes), declined \(declined)")
    }

    /// The table is PCRE2's own classes: spot checks, and the characters left to the regex.
    @Test func tableClassifiesLikeThePattern() {
        let kinds = LetterPiece.table
        func kind(_ c: Character) -> LetterPiece.Kind {
            Array(String(c).utf8).withUnsafeBufferPointer { LetterPiece.decode($0.baseAddress!, 0, kinds).0 }
        }
        for c: Character in ["a", "é", "ж", "Ω", "日", "ก", "ǅ", "ʰ", "ß"] { #expect(kind(c) == .letter, "\(c)") }
        for c: Character in ["1", "٣", "²", "Ⅻ"] { #expect(kind(c) == .number, "\(c)") }
        for c: Character in [" ", "'", ".", "«", "—", "\u{A0}", "\u{3000}", "\u{0301}", "\u{0E31}"] { #expect(kind(c) == .other, "\(c)") }
        for c: Character in ["\u{1C89}", "\u{180E}", "\u{1D400}", "😀"] { #expect(kind(c) == .unknown, "\(c)") }
    }
}
