import Testing
import TokenMeterTokenizer

/// Test vectors published by OpenAI (tiktoken's tests, the cookbook, harmony docs;
/// docs/reference/ENCODINGS.md#test-vectors).
@Suite struct OfficialVectorTests {
    static let cl100k: [(String, [Int])] = [
        ("hello world", [15339, 1917]),
        (" \u{85}0", [220, 126, 227, 15]),
        ("rer", [38149]),
        ("'rer", [2351, 81]),
        ("today\n ", [31213, 198, 220]),
        ("today\n \n", [31213, 27907]),
        ("today\n  \n", [31213, 14211]),
        ("tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
        ("antidisestablishmentarianism", [519, 85342, 34500, 479, 8997, 2191]),
        ("2 + 2 = 4", [17, 489, 220, 17, 284, 220, 19]),
        ("お誕生日おめでとう", [33334, 45918, 243, 21990, 9080, 33334, 62004, 16556, 78699]),
    ]

    static let o200k: [(String, [Int])] = [
        ("hello world", [24912, 2375]),
        ("tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
        ("antidisestablishmentarianism", [493, 129901, 376, 160388, 21203, 2367]),
        ("2 + 2 = 4", [17, 659, 220, 17, 314, 220, 19]),
        ("お誕生日おめでとう", [8930, 9697, 243, 128225, 8930, 17693, 4344, 48669]),
    ]

    @Test(arguments: cl100k)
    func cl100kVectors(text: String, ids: [Int]) throws {
        let enc = try Encoding.named(.cl100k_base)
        #expect(enc.encode(text) == ids)
        #expect(enc.count(text) == ids.count)
    }

    @Test(arguments: o200k)
    func o200kVectors(text: String, ids: [Int]) throws {
        let enc = try Encoding.named(.o200k_base)
        #expect(enc.encode(text) == ids)
        #expect(enc.count(text) == ids.count)
    }

    @Test func specialTokensAreTextUnlessAllowed() throws {
        let cl = try Encoding.named(.cl100k_base)
        #expect(try cl.encode("hello <|endoftext|>", allowedSpecial: ["<|endoftext|>"]) == [15339, 220, 100257])
        #expect(cl.encode("hello <|endoftext|>") == [15339, 83739, 8862, 728, 428, 91, 29])
        #expect(try cl.encode("<|fim_prefix|>a<|endoftext|>", allowedSpecial: ["<|endoftext|>"]).last == 100257)
        #expect(try cl.encode("<|fim_prefix|>a", allowedSpecial: ["<|endoftext|>"]) == cl.encode("<|fim_prefix|>a"))
        #expect(throws: TokenizerError.unknownSpecialToken("<|nope|>")) {
            try cl.encode("x", allowedSpecial: ["<|nope|>"])
        }
        let o = try Encoding.named(.o200k_base)
        #expect(try o.encode("<|endofprompt|>", allowedSpecial: o.allSpecialTokens) == [200018])
    }

    @Test func vocabularySizesAreTiktokens() throws {
        #expect(try Encoding.named(.cl100k_base).vocabularySize == 100_277)
        #expect(try Encoding.named(.o200k_base).vocabularySize == 200_019)
        #expect(try Encoding.named(.o200k_harmony).vocabularySize == 201_088)
    }

    @Test func harmonyStreamDecodesAsPublished() throws {
        // openai/harmony docs/format.md (docs/reference/ENCODINGS.md#test-vectors).
        let ids = [200005, 35644, 200008, 1844, 31064, 25, 392, 4827, 382, 220, 17, 659, 220, 17, 16842, 12295, 81645,
                   13, 51441, 6052, 13, 200007, 200006, 173781, 200005, 17196, 200008, 17, 659, 220, 17, 314, 220, 19,
                   13, 200002]
        let text = "<|channel|>analysis<|message|>User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer.<|end|>"
            + "<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>"
        let harmony = try Encoding.named(.o200k_harmony)
        #expect(try harmony.decodeString(ids) == text)
        #expect(try harmony.encode(text, allowedSpecial: harmony.allSpecialTokens) == ids)
    }

    /// tiktoken's o200k_harmony adds `<|reserved_i|>` for every id from 200013, so id 200018 has two names:
    /// o200k_base's `<|endofprompt|>` and `<|reserved_200018|>`. Both encode to 200018, which decodes to
    /// `<|endofprompt|>` (tiktoken 0.14.0 does the same). Pinned because fuzz-tokenizer's round trip
    /// found it (docs/ROBUSTNESS.md): the one special-token text that does not survive encode/decode.
    @Test func harmonyEndOfPromptHasAReservedAlias() throws {
        let harmony = try Encoding.named(.o200k_harmony)
        #expect(try harmony.encode("<|reserved_200018|>", allowedSpecial: harmony.allSpecialTokens) == [200018])
        #expect(try harmony.encode("<|endofprompt|>", allowedSpecial: harmony.allSpecialTokens) == [200018])
        #expect(try harmony.decodeString([200018]) == "<|endofprompt|>")
        #expect(try harmony.decodeString([200017]) == "<|reserved_200017|>")
    }

    @Test func decodingRejectsUnknownIDs() throws {
        let enc = try Encoding.named(.cl100k_base)
        #expect(throws: TokenizerError.invalidTokenID(100_261, vocabularySize: 100_277)) { try enc.decode([100_261]) }
        #expect(throws: TokenizerError.invalidTokenID(-1, vocabularySize: 100_277)) { try enc.decode([-1]) }
        #expect(try enc.decode([100_257]) == Array("<|endoftext|>".utf8))
        // A token can end inside a character: bytes are returned, the string is not valid.
        #expect(try enc.decode([126]) == [0xC2])
        #expect(try enc.decodeString([126]) == nil)
    }
}
