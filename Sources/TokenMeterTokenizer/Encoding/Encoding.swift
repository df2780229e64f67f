import Synchronization

/// A loaded BPE encoding (cl100k_base, o200k_base, o200k_harmony): tiktoken's tokenizer, exactly.
///
/// Text is split into pieces by the encoding's regex (PCRE2 JIT), and each piece becomes tokens by
/// byte-pair merges over the vocabulary's ranks. Token ids are the ranks. One `Encoding` is
/// immutable after loading and safe to use from any number of tasks at once; `named(_:)` loads each
/// encoding once per process.
public final class Encoding: Sendable {
    /// Which encoding this is.
    public let name: EncodingName
    let table: TokenTable
    /// tiktoken's pattern verbatim (fast), and the same pattern with PCRE2's Unicode 14 tables
    /// brought to tiktoken's Unicode 16 (`PatternCompatibility`), for text with `ChangedScalars`.
    let preTokenizer: PreTokenizer
    let compatiblePreTokenizer: PreTokenizer
    /// Special token text → id, and id → text (for decoding).
    let specialIDs: [String: Int]
    let specialTexts: [Int: String]
    /// Ids of the 256 single-byte tokens, so one-byte pieces need no hash lookup.
    let byteRanks: [UInt32]


    /// One past the largest token id, special tokens included (tiktoken's `n_vocab`).
    public let vocabularySize: Int

    init(name: EncodingName, table: TokenTable) throws(TokenizerError) {
        self.name = name
        self.table = table
        preTokenizer = try PreTokenizer(pattern: name.pattern)
        compatiblePreTokenizer = try PreTokenizer(pattern: PatternCompatibility.augment(name.pattern))
        var ids: [String: Int] = [:], texts: [Int: String] = [:]
        for (text, id) in name.specialTokens {
            ids[text] = id
            if texts[id] == nil { texts[id] = text }
        }
        specialIDs = ids
        specialTexts = texts
        byteRanks = (0..<256).map { b in
            var byte = UInt8(b)
            return table.rank(&byte, 1)
        }
        vocabularySize = max(table.tokenCount, (texts.keys.max() ?? -1) + 1)
    }

    private static let loaded = Mutex<[EncodingName: Encoding]>([:])

    /// The encoding `name`, loaded on first use from the bundled vocab (see `VocabularyLocator`)
    /// and shared afterwards.
    public static func named(_ name: EncodingName) throws(TokenizerError) -> Encoding {
        if let e = loaded.withLock({ $0[name] }) { return e }
        let e = try load(name, vocabPath: VocabularyLocator.path(of: name.vocabFileName))
        return loaded.withLock { cache in
            if let existing = cache[name] { return existing }
            cache[name] = e
            return e
        }
    }

    /// The encoding for a model name (docs/reference/ENCODINGS.md#model-to-encoding), shared like
    /// `named(_:)`.
    public static func forModel(_ model: String) throws(TokenizerError) -> Encoding {
        try named(ModelEncodings.encoding(forModel: model))
    }

    /// Loads `name` from an explicit vocab file, bypassing the shared instances. The binary cache
    /// lives in `cacheDirectory` (default: see `VocabularyCache`); nil parses the source every time.
    public static func load(_ name: EncodingName, vocabPath: String,
                            cacheDirectory: String? = VocabularyCache.directory()) throws(TokenizerError) -> Encoding {
        try Encoding(name: name, table: VocabularyCache.loadTable(sourcePath: vocabPath, encoding: name,
                                                                  cacheDirectory: cacheDirectory))
    }

    /// The names and ids of this encoding's special tokens.
    public var specialTokens: [String: Int] { specialIDs }
}
