import Testing
import TokenMeterTestSupport
import TokenMeterTokenizer

/// The incremental counter must equal a batch count of the concatenation after every delta.
@Suite struct IncrementalCounterTests {
    /// Feeds `bytes` split at `cuts` (byte offsets) and checks the count after a delta against a batch
    /// count of the complete characters received so far: after every delta that ends in the first
    /// `checkAllUpTo` bytes, then after every `stride`-th delta and the last (a batch count of every
    /// prefix of a 60 KB file would make the test quadratic).
    func check(_ bytes: [UInt8], cuts: [Int], encoding: Encoding, checkAllUpTo: Int = .max, stride: Int = 1,
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        var counter = IncrementalCounter(encoding: encoding)
        var previous = 0
        for (index, cut) in (cuts + [bytes.count]).enumerated() where cut > previous || cut == bytes.count {
            let delta = Array(bytes[previous..<cut])
            let got = try delta.withUnsafeBufferPointer { try counter.append(utf8: $0) }
            previous = cut
            guard cut <= checkAllUpTo || index % stride == 0 || cut == bytes.count else { continue }
            // The text so far, minus an incomplete trailing character, is what must be counted.
            var complete = cut
            while complete > 0 && complete < bytes.count && (bytes[complete] & 0xC0) == 0x80 { complete -= 1 }
            let expected = bytes[0..<complete].withUnsafeBufferPointer { encoding.count(utf8: UnsafeBufferPointer(rebasing: $0[...])) }
            if got != expected {
                Issue.record("after \(cut) bytes: incremental \(got), batch \(expected)", sourceLocation: sourceLocation)
                return
            }
        }
        #expect(counter.incompleteBytes == 0, sourceLocation: sourceLocation)
    }

    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func randomSplitsOfEveryCorpusFileCountExactly(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        var rng = SeededGenerator(seed: 0x70CE_11E7)
        for file in Fixtures.corpusNames {
            let bytes = Fixtures.corpus(file)
            // Deltas of 1 to 12 bytes: cuts land inside characters, CRLFs, digit runs, contractions.
            var cuts: [Int] = []
            var at = 0
            while at < bytes.count { at += Int.random(in: 1...12, using: &rng); cuts.append(min(at, bytes.count)) }
            try check(bytes, cuts: cuts, encoding: enc, checkAllUpTo: 3000, stride: 61)
        }
    }

    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func everySplitPointOfTrickyTextsCountsExactly(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        let texts = [
            "they'll've it's IT'S we're", "cafe\u{301} re\u{301}sume\u{301}", "line\r\nnext\r\n\r\n  \r\nend",
            "1234567 89 0000", "a   \n\n  b\t\t c   ", "hello <|endoftext|> world", "👨‍👩‍👧‍👦🇯🇵 ok", "x's'S's",
            "HTTPServer parseJSON ÉCOLE", "日本語のテキスト、句読点。", "\u{85}\u{A0}\u{3000}a", "abc/\r\n/def//\n",
        ]
        for text in texts {
            let bytes = Array(text.utf8)
            for cut in 1..<bytes.count { try check(bytes, cuts: [cut], encoding: enc) }
            try check(bytes, cuts: Array(1..<bytes.count), encoding: enc)  // one byte at a time
        }
    }

    /// Words of many scripts, which cl100k's counter splits without the regex (`LetterPiece`), next to
    /// the characters that end them or leave them to the regex: marks, non-ASCII numbers, punctuation
    /// and spaces, contractions, a letter above U+FFFF, one PCRE2 10.42 does not know.
    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func everySplitPointOfLettersInManyScriptsCountsExactly(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        let texts = [
            "Все люди, «рождаются» свободными.", "日本語のテキスト、句読点。ก๏ไทย", "ça—va’s Ⅻ²٣ x\u{301}y ǅʰß",
            "'sжж 'Llé\r\nΩ\u{A0}Ω\u{3000}a", "𝐀bc d𝐀 \u{1C89}z y\u{1C89} e\u{180E}f", "Straße12Größe😀Maße",
        ]
        for text in texts {
            let bytes = Array(text.utf8)
            for cut in 1..<bytes.count { try check(bytes, cuts: [cut], encoding: enc) }
            try check(bytes, cuts: Array(1..<bytes.count), encoding: enc)  // one byte at a time
            // Character by character, as a stream of letters arrives.
            var cuts: [Int] = []
            var at = 0
            for c in text.unicodeScalars { at += String(c).utf8.count; cuts.append(at) }
            try check(bytes, cuts: cuts, encoding: enc)
        }
    }

    @Test func stringDeltasCountLikeTheirConcatenation() throws {
        let enc = try Encoding.named(.o200k_base)
        var counter = IncrementalCounter(encoding: enc)
        var text = ""
        for delta in ["Hel", "lo", ",", " wor", "ld", "!\n", "\n", "12", "345", " it", "'", "s"] {
            text += delta
            #expect(counter.append(delta) == enc.count(text))
        }
        #expect(counter.count == enc.count(text))
    }

    @Test func aCharacterSplitAcrossDeltasIsCountedOnceComplete() throws {
        let enc = try Encoding.named(.cl100k_base)
        var counter = IncrementalCounter(encoding: enc)
        let euro = Array("€".utf8)  // E2 82 AC
        #expect(try [euro[0]].withUnsafeBufferPointer { try counter.append(utf8: $0) } == 0)
        #expect(counter.incompleteBytes == 1)
        #expect(try [euro[1]].withUnsafeBufferPointer { try counter.append(utf8: $0) } == 0)
        #expect(try [euro[2]].withUnsafeBufferPointer { try counter.append(utf8: $0) } == enc.count("€"))
        #expect(counter.incompleteBytes == 0)
    }

    /// Found by `make fuzz-tokenizer` (docs/ROBUSTNESS.md): U+105C6 is a Todhri letter (Unicode 16), which
    /// PCRE2 10.42 does not know, so the counter must switch to the compatibility pattern when it
    /// arrives. Fed a byte at a time, no single delta held the whole character and the switch never
    /// happened: "\u{105C6}'s" counted 6 instead of 5. Expected counts: tiktoken 0.14.0 `encode_ordinary`.
    @Test(arguments: [(EncodingName.cl100k_base, "\u{105C6}'s", 5), (.o200k_base, "\u{105C6}'s", 5),
                      (.cl100k_base, "a\u{105C6}b \u{105C6}'s", 12), (.o200k_base, "a\u{105C6}b \u{105C6}'s", 12)])
    func aChangedCharacterSplitAcrossDeltasSwitchesPatterns(encoding: EncodingName, text: String, tiktokenCount: Int) throws {
        let enc = try Encoding.named(encoding)
        #expect(enc.count(text) == tiktokenCount)
        var counter = IncrementalCounter(encoding: enc)
        for byte in Array(text.utf8) { _ = try [byte].withUnsafeBufferPointer { try counter.append(utf8: $0) } }
        #expect(counter.count == tiktokenCount)
        let bytes = Array(text.utf8)
        try check(bytes, cuts: Array(1..<bytes.count), encoding: enc)  // every prefix, a byte at a time
        for cut in 1..<bytes.count { try check(bytes, cuts: [cut], encoding: enc) }
    }

    @Test func invalidBytesAreRefusedWithTheirStreamOffset() throws {
        let enc = try Encoding.named(.cl100k_base)
        var counter = IncrementalCounter(encoding: enc)
        try Array("abc".utf8).withUnsafeBufferPointer { _ = try counter.append(utf8: $0) }
        #expect(throws: TokenizerError.invalidUTF8(offset: 4)) {
            try [0x64, 0xFF].withUnsafeBufferPointer { try counter.append(utf8: $0) }
        }
        // The refused delta is not kept: the counter goes on from "abc".
        #expect(counter.count == enc.count("abc"))
        #expect(counter.append("d") == enc.count("abcd"))
    }

    @Test func offsetsStayAbsoluteAfterCommittedTextIsDropped() throws {
        let enc = try Encoding.named(.o200k_base)
        var counter = IncrementalCounter(encoding: enc)
        let chunk = Array(String(repeating: "word ", count: 200).utf8)  // 1,000 bytes
        for _ in 0..<10 { _ = try chunk.withUnsafeBufferPointer { try counter.append(utf8: $0) } }
        #expect(counter.count == enc.count(String(repeating: "word ", count: 2000)))
        #expect(throws: TokenizerError.invalidUTF8(offset: 10_001)) {
            try [0x78, 0xC0, 0x80].withUnsafeBufferPointer { try counter.append(utf8: $0) }
        }
    }
}

/// Brute force over short ASCII texts built from the characters the stable-piece shortcut reasons
/// about: every split point, both encodings, incremental == batch at every step.
@Suite struct StablePieceShortcutTests {
    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func randomASCIITextsCountExactlyAtEverySplit(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        let atoms = StablePieceTests.atoms
        var rng = SeededGenerator(seed: 0x57AB1E)
        for _ in 0..<400 {
            let text = (0..<Int.random(in: 2...9, using: &rng)).map { _ in atoms.randomElement(using: &rng)! }.joined()
            let bytes = Array(text.utf8)
            var counter = IncrementalCounter(encoding: enc)
            // Feed one byte at a time: every piece boundary is a delta boundary at some point.
            for (i, b) in bytes.enumerated() {
                let got = try [b].withUnsafeBufferPointer { try counter.append(utf8: $0) }
                var complete = i + 1
                while complete < bytes.count && complete > 0 && (bytes[complete] & 0xC0) == 0x80 { complete -= 1 }
                let expected = enc.count(String(decoding: bytes[..<complete], as: UTF8.self))
                if got != expected {
                    Issue.record("\(encoding) \(text.debugDescription) after \(i + 1) bytes: \(got) vs \(expected)")
                    return
                }
            }
            // And in random deltas.
            var counter2 = IncrementalCounter(encoding: enc)
            var at = 0
            while at < bytes.count {
                let n = min(Int.random(in: 1...4, using: &rng), bytes.count - at)
                _ = try Array(bytes[at..<(at + n)]).withUnsafeBufferPointer { try counter2.append(utf8: $0) }
                at += n
            }
            #expect(counter2.count == enc.count(text), "\(text.debugDescription)")
        }
    }
}
