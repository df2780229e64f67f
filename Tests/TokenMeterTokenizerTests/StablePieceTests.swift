import Testing
import TokenMeterTestSupport
@testable import TokenMeterTokenizer

/// The regex-free shortcuts of `StablePiece` checked against the regex itself, on random ASCII texts
/// built from the shapes they reason about: whatever text follows, a piece called final is a piece of
/// every longer text, and a tail called whole is the one piece the regex finds there.
@Suite struct StablePieceTests {
    static let atoms = ["a", "Z", "it", "wOrld", "ABc", "Byte", "Order", "HTTP", "s", "'", "'s", "'ll", "1", "22", "333",
                        "4444", " ", "  ", "\t", "\u{0B}", "\n", "\r\n", "\r", "\n\n", "(", ".", "/", "->", "//", "!!",
                        "_", "}\n", " {\n", ");\n", "\u{01}", "\u{7F}", "x1", " \n", "\n ", "é", "日"]

    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func shortcutsAgreeWithTheRegexOnEveryPrefix(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        let matcher = PieceMatcher(enc.preTokenizer)
        let caseRuns = encoding.splitsCaseRuns
        var rng = SeededGenerator(seed: 0x5EED_0002)
        var finals = 0, wholes = 0
        for _ in 0..<1_500 {
            let text = (0..<Int.random(in: 2...10, using: &rng)).map { _ in Self.atoms.randomElement(using: &rng)! }.joined()
            let bytes = Array(text.utf8)
            let all = pieces(bytes, bytes.count, matcher)
            let allSet = Set(all.map { "\($0.0):\($0.1)" })
            for length in 1...bytes.count where length == bytes.count || bytes[length] & 0xC0 != 0x80 {
                let prefixPieces = pieces(bytes, length, matcher)
                try bytes.withUnsafeBufferPointer { b in
                    let p = b.baseAddress!
                    for (s, e) in prefixPieces {
                        // A final piece of this prefix is a piece of the whole text (any future).
                        if e < length && StablePiece.isFinal(p, from: s, to: e, caseRuns: caseRuns) {
                            finals += 1
                            try #require(allSet.contains("\(s):\(e)"),
                                         "\(encoding) final \(String(decoding: bytes[s..<e], as: UTF8.self).debugDescription) in \(text.debugDescription)")
                        }
                        // A whole tail from a piece boundary is exactly the regex's last piece.
                        if StablePiece.isWholeTail(p, from: s, to: length, caseRuns: caseRuns) {
                            wholes += 1
                            try #require(prefixPieces.last! == (s, length) && prefixPieces.contains { $0 == (s, length) },
                                         "\(encoding) whole tail \(String(decoding: bytes[s..<length], as: UTF8.self).debugDescription) in \(text.debugDescription)")
                        }
                    }
                }
            }
        }
        // The shortcuts fire often on these texts (so the checks above are not vacuous).
        #expect(finals > 5_000 && wholes > 5_000, "finals \(finals), whole tails \(wholes)")
    }
}
