/// Everything that can go wrong while loading an encoding or tokenizing, with a message a user can act on.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No vocab directory was found; `searched` lists every place that was tried, in order.
    case vocabNotFound(file: String, searched: [String])
    /// The vocab file exists but could not be read.
    case vocabUnreadable(path: String, reason: String)
    /// The vocab file's SHA-256 is not the one published for this encoding.
    case vocabHashMismatch(path: String, expected: String, actual: String)
    /// A line of the vocab file is not `base64 SP rank`; `line` is 1-based.
    case vocabMalformed(path: String, line: Int, reason: String)
    /// The encoding name is not one TokenMeter knows.
    case unknownEncoding(String, known: [String])
    /// The model name maps to no encoding (neither an exact name nor a known prefix).
    case unknownModel(String, known: [String])
    /// The model maps to an encoding whose vocab TokenMeter does not bundle (for example p50k_base).
    case unsupportedEncoding(model: String, encoding: String, supported: [String])
    /// A token id that is not in the encoding's vocabulary (while decoding).
    case invalidTokenID(Int, vocabularySize: Int)
    /// Input bytes that are not valid UTF-8; `offset` is the 0-based byte offset of the first bad byte.
    case invalidUTF8(offset: Int)
    /// A special-token name that the encoding does not define (in an allowed set).
    case unknownSpecialToken(String)
    /// PCRE2 refused a pattern or a match failed in a way that indicates a bug.
    case regex(String)

    public var description: String {
        switch self {
        case let .vocabNotFound(file, searched):
            return "vocab file \(file) not found; looked in: \(searched.joined(separator: ", ")). "
                + "Set TOKENMETER_VOCAB to the directory holding the .tiktoken files."
        case let .vocabUnreadable(path, reason):
            return "cannot read vocab file \(path): \(reason)"
        case let .vocabHashMismatch(path, expected, actual):
            return "vocab file \(path) is corrupt or not the published one: sha256 \(actual), expected \(expected)"
        case let .vocabMalformed(path, line, reason):
            return "vocab file \(path) line \(line): \(reason)"
        case let .unknownEncoding(name, known):
            return "unknown encoding '\(name)'; known encodings: \(known.joined(separator: ", "))"
        case let .unknownModel(model, known):
            return "unknown model '\(model)'; known models: \(known.joined(separator: ", ")) "
                + "(and names starting with a known prefix such as gpt-4o- or gpt-5)"
        case let .unsupportedEncoding(model, encoding, supported):
            return "model '\(model)' uses \(encoding), which TokenMeter does not bundle; "
                + "supported encodings: \(supported.joined(separator: ", "))"
        case let .invalidTokenID(id, size):
            return "token id \(id) is not in the vocabulary (valid ids are 0..<\(size))"
        case let .invalidUTF8(offset):
            return "input is not valid UTF-8: bad byte at offset \(offset)"
        case let .unknownSpecialToken(name):
            return "unknown special token '\(name)'"
        case let .regex(message):
            return "pre-tokenizer error: \(message)"
        }
    }
}
