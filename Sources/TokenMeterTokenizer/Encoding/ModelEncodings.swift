/// Which encoding a model name uses: tiktoken's `encoding_name_for_model`
/// (docs/reference/ENCODINGS.md#model-to-encoding).
///
/// An exact name wins; otherwise the first prefix, in tiktoken's order, that the name starts with
/// (so `gpt-4o-2024-08-06` is o200k_base and `gpt-3.5-turbo-0125` is cl100k_base). Like tiktoken,
/// prefixes also accept names that do not exist, such as `gpt-5.9-anything`.
public enum ModelEncodings {
    /// Exact model names and their encodings.
    public static let exact: [(model: String, encoding: String)] = [
        ("o1", "o200k_base"), ("o3", "o200k_base"), ("o4-mini", "o200k_base"), ("gpt-5", "o200k_base"),
        ("gpt-4.1", "o200k_base"), ("gpt-4o", "o200k_base"),
        ("gpt-4", "cl100k_base"), ("gpt-3.5-turbo", "cl100k_base"), ("gpt-3.5", "cl100k_base"),
        ("gpt-35-turbo", "cl100k_base"), ("davinci-002", "cl100k_base"), ("babbage-002", "cl100k_base"),
        ("text-embedding-ada-002", "cl100k_base"), ("text-embedding-3-small", "cl100k_base"),
        ("text-embedding-3-large", "cl100k_base"),
        ("text-davinci-003", "p50k_base"), ("text-davinci-002", "p50k_base"),
        ("text-davinci-001", "r50k_base"), ("text-curie-001", "r50k_base"), ("text-babbage-001", "r50k_base"),
        ("text-ada-001", "r50k_base"), ("davinci", "r50k_base"), ("curie", "r50k_base"),
        ("babbage", "r50k_base"), ("ada", "r50k_base"),
        ("code-davinci-002", "p50k_base"), ("code-davinci-001", "p50k_base"), ("code-cushman-002", "p50k_base"),
        ("code-cushman-001", "p50k_base"), ("davinci-codex", "p50k_base"), ("cushman-codex", "p50k_base"),
        ("text-davinci-edit-001", "p50k_edit"), ("code-davinci-edit-001", "p50k_edit"),
        ("text-similarity-davinci-001", "r50k_base"), ("text-similarity-curie-001", "r50k_base"),
        ("text-similarity-babbage-001", "r50k_base"), ("text-similarity-ada-001", "r50k_base"),
        ("text-search-davinci-doc-001", "r50k_base"), ("text-search-curie-doc-001", "r50k_base"),
        ("text-search-babbage-doc-001", "r50k_base"), ("text-search-ada-doc-001", "r50k_base"),
        ("code-search-babbage-code-001", "r50k_base"), ("code-search-ada-code-001", "r50k_base"),
        ("gpt2", "gpt2"), ("gpt-2", "gpt2"),
    ]

    /// Name prefixes in tiktoken's order; the first that matches wins.
    public static let prefixes: [(prefix: String, encoding: String)] = [
        ("o1-", "o200k_base"), ("o3-", "o200k_base"), ("o4-mini-", "o200k_base"), ("gpt-5", "o200k_base"),
        ("gpt-4.5-", "o200k_base"), ("gpt-4.1-", "o200k_base"), ("chatgpt-4o-", "o200k_base"),
        ("gpt-4o-", "o200k_base"), ("gpt-4-", "cl100k_base"), ("gpt-3.5-turbo-", "cl100k_base"),
        ("gpt-35-turbo-", "cl100k_base"), ("gpt-oss-", "o200k_harmony"), ("ft:gpt-4o", "o200k_base"),
        ("ft:gpt-4", "cl100k_base"), ("ft:gpt-3.5-turbo", "cl100k_base"), ("ft:davinci-002", "cl100k_base"),
        ("ft:babbage-002", "cl100k_base"),
    ]

    private static let exactMap: [String: String] = Dictionary(exact.map { ($0.model, $0.encoding) },
                                                                uniquingKeysWith: { a, _ in a })

    /// The encoding name for `model` (it may be one TokenMeter does not bundle, such as p50k_base).
    public static func encodingName(forModel model: String) throws(TokenizerError) -> String {
        if let e = exactMap[model] { return e }
        for (prefix, encoding) in prefixes where model.hasPrefix(prefix) { return encoding }
        throw .unknownModel(model, known: exact.map(\.model))
    }

    /// The bundled encoding for `model`; throws when the model is unknown or its encoding is not bundled.
    public static func encoding(forModel model: String) throws(TokenizerError) -> EncodingName {
        let name = try encodingName(forModel: model)
        guard let e = EncodingName(rawValue: name) else {
            throw .unsupportedEncoding(model: model, encoding: name,
                                       supported: EncodingName.allCases.map(\.rawValue))
        }
        return e
    }
}
