import Testing
import TokenMeterTokenizer

@Suite struct ModelEncodingsTests {
    /// tiktoken's tests/test_misc.py expectations plus the prefix rules of
    /// docs/reference/ENCODINGS.md#model-to-encoding.
    @Test(arguments: [
        ("gpt2", "gpt2"), ("text-davinci-003", "p50k_base"), ("text-davinci-edit-001", "p50k_edit"),
        ("gpt-3.5-turbo-0301", "cl100k_base"), ("gpt-4", "cl100k_base"), ("gpt-4o", "o200k_base"),
        ("gpt-oss-120b", "o200k_harmony"), ("gpt-4o-2024-08-06", "o200k_base"), ("gpt-4-0613", "cl100k_base"),
        ("gpt-5.1-mini", "o200k_base"), ("gpt-5", "o200k_base"), ("o3-mini", "o200k_base"),
        ("o4-mini-2025-04-16", "o200k_base"), ("chatgpt-4o-latest", "o200k_base"), ("gpt-4.1-nano", "o200k_base"),
        ("ft:gpt-4o-mini:org::abc", "o200k_base"), ("ft:gpt-4-0613:org::x", "cl100k_base"),
        ("gpt-35-turbo-16k", "cl100k_base"), ("gpt-3.5-turbo-FAKE", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
    ])
    func modelsMapLikeTiktoken(model: String, encoding: String) throws {
        #expect(try ModelEncodings.encodingName(forModel: model) == encoding)
    }

    @Test func exactNamesWinOverPrefixes() throws {
        // "gpt-4o" is exact (o200k) although "gpt-4-" would not match it anyway; "gpt-4" is exact cl100k.
        #expect(try Encoding.forModel("gpt-4").name == .cl100k_base)
        #expect(try Encoding.forModel("gpt-4o-mini").name == .o200k_base)
        #expect(try Encoding.forModel("gpt-oss-20b").name == .o200k_harmony)
    }

    @Test func unknownModelErrorListsTheKnownNames() {
        #expect(throws: TokenizerError.self) { try ModelEncodings.encodingName(forModel: "llama3") }
        do {
            _ = try ModelEncodings.encodingName(forModel: "claude-3")
        } catch {
            #expect(error.description.contains("unknown model 'claude-3'"))
            #expect(error.description.contains("gpt-4o"))
        }
    }

    @Test func modelsOfUnbundledEncodingsAreRefusedClearly() {
        #expect(throws: TokenizerError.unsupportedEncoding(model: "davinci", encoding: "r50k_base",
                                                           supported: ["cl100k_base", "o200k_base", "o200k_harmony"])) {
            try ModelEncodings.encoding(forModel: "davinci")
        }
    }

    @Test func encodingNamesAreValidated() throws {
        #expect(try EncodingName.named("cl100k_base") == .cl100k_base)
        #expect(throws: TokenizerError.unknownEncoding("p50k", known: ["cl100k_base", "o200k_base", "o200k_harmony"])) {
            try EncodingName.named("p50k")
        }
    }
}
