/// Everything that stops an estimate, grouped so a command line can map it to a sysexits code.
public enum EstimateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Catalog loading or model lookup failed.
    case catalog(CatalogError)
    /// An input file or folder does not exist or cannot be read.
    case inputNotFound(path: String)
    case inputUnreadable(path: String, reason: String)
    /// A folder given as input holds no files.
    case emptyFolder(path: String)
    /// A text input is not valid UTF-8.
    case notUTF8(input: String)
    /// A request body is malformed or has a missing or wrong-typed field.
    case badRequest(input: String, RequestError)
    /// No model to estimate for: a text input without `--model`, or a request without `"model"`.
    case noModel(input: String)
    /// An `--max-output` of 0 or less.
    case invalidMaxOutput(Int)
    /// The tokenizer for an encoding could not be loaded.
    case tokenizerUnavailable(encoding: String, reason: String)
    /// A cost is out of the money range.
    case cost(model: String, CostError)

    /// How a command line should report the error.
    public enum Category: Sendable {
        /// Bad usage or an unknown model (sysexits 64, EX_USAGE).
        case usage
        /// Malformed input data (65, EX_DATAERR).
        case dataError
        /// An input file is missing or unreadable (66, EX_NOINPUT).
        case noInput
        /// The environment is missing something, e.g. the vocabulary files (72, EX_OSFILE, as the
        /// tokenizer's own vocab errors).
        case environment
    }

    public var category: Category {
        switch self {
        case .catalog(.unknownModel), .noModel, .invalidMaxOutput: .usage
        case .catalog(.fileNotFound), .catalog(.unreadable), .inputNotFound, .inputUnreadable, .emptyFolder: .noInput
        case .catalog, .notUTF8, .badRequest, .cost: .dataError
        case .tokenizerUnavailable: .environment
        }
    }

    public var description: String {
        switch self {
        case .catalog(let e): "\(e)"
        case .inputNotFound(let path): "input \(path) does not exist"
        case .inputUnreadable(let path, let reason): "cannot read input \(path): \(reason)"
        case .emptyFolder(let path): "folder \(path) holds no input files (hidden files are skipped)"
        case .notUTF8(let input): "\(input) is not UTF-8 text"
        case .badRequest(let input, let e): "\(input): \(e)"
        case .noModel(let input): "no model for \(input): pass --model NAME (or --compare), or set \"model\" in the request"
        case .invalidMaxOutput(let n): "--max-output must be at least 1, got \(n)"
        case .tokenizerUnavailable(let enc, let reason): "cannot load the \(enc) tokenizer: \(reason)"
        case .cost(let model, let e): "\(model): \(e)"
        }
    }
}
