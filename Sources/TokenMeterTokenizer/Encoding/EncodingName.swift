/// The BPE encodings TokenMeter bundles, with the exact definitions tiktoken uses for them.
public enum EncodingName: String, CaseIterable, Sendable, Hashable {
    case cl100k_base
    case o200k_base
    /// gpt-oss's encoding: o200k_base's vocabulary and pattern with the harmony chat special tokens.
    case o200k_harmony

    /// The vocab file (in the vocab directory) this encoding's mergeable ranks come from.
    public var vocabFileName: String {
        switch self {
        case .cl100k_base: "cl100k_base.tiktoken"
        case .o200k_base, .o200k_harmony: "o200k_base.tiktoken"
        }
    }

    /// SHA-256 (hex) of the vocab file as published by OpenAI; loading refuses any other file.
    public var vocabSHA256: String {
        switch self {
        case .cl100k_base: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
        case .o200k_base, .o200k_harmony: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
        }
    }

    /// Whether the pattern splits a run of letters where a small letter is followed by a capital
    /// (o200k's "camelCase" rule); cl100k keeps the run whole.
    var splitsCaseRuns: Bool { self != .cl100k_base }

    /// The pre-tokenization regex, verbatim from tiktoken (`tiktoken_ext/openai_public.py`).
    var pattern: String {
        switch self {
        case .cl100k_base:
            return #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#
        case .o200k_base, .o200k_harmony:
            return [
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
                #"\p{N}{1,3}"#,
                #" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
                #"\s*[\r\n]+"#,
                #"\s+(?!\S)"#,
                #"\s+"#,
            ].joined(separator: "|")
        }
    }

    /// Special tokens and their ids, as tiktoken defines them
    /// (docs/reference/ENCODINGS.md#vocabularies-and-special-tokens).
    ///
    /// o200k_harmony: tiktoken gives both `<|endofprompt|>` (inherited) and `<|reserved_200018|>` id
    /// 200018; both encode to it, and decoding 200018 gives `<|endofprompt|>` (tiktoken's choice there
    /// is not deterministic).
    var specialTokens: [(String, Int)] {
        switch self {
        case .cl100k_base:
            return [("<|endoftext|>", 100257), ("<|fim_prefix|>", 100258), ("<|fim_middle|>", 100259),
                    ("<|fim_suffix|>", 100260), ("<|endofprompt|>", 100276)]
        case .o200k_base:
            return [("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)]
        case .o200k_harmony:
            var tokens: [(String, Int)] = [
                ("<|startoftext|>", 199998), ("<|endoftext|>", 199999), ("<|endofprompt|>", 200018),
                ("<|reserved_200000|>", 200000), ("<|reserved_200001|>", 200001), ("<|return|>", 200002),
                ("<|constrain|>", 200003), ("<|reserved_200004|>", 200004), ("<|channel|>", 200005),
                ("<|start|>", 200006), ("<|end|>", 200007), ("<|message|>", 200008),
                ("<|reserved_200009|>", 200009), ("<|reserved_200010|>", 200010),
                ("<|reserved_200011|>", 200011), ("<|call|>", 200012),
            ]
            for id in 200013..<201088 { tokens.append(("<|reserved_\(id)|>", id)) }
            return tokens
        }
    }

    /// Looks an encoding up by its name (`"o200k_base"`); the error lists the valid names.
    public static func named(_ name: String) throws(TokenizerError) -> EncodingName {
        guard let e = EncodingName(rawValue: name) else {
            throw .unknownEncoding(name, known: allCases.map(\.rawValue))
        }
        return e
    }
}
