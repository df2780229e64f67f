import TokenMeterJSON

/// Why an OpenAI chat request body was refused. Messages give the JSON path of the bad field.
public enum RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not valid JSON; carries line and column.
    case malformedJSON(JSONSyntaxError)
    /// A required field is absent, e.g. `messages` or `messages[2].role`.
    case missingField(path: String)
    /// A field has the wrong type or an impossible value.
    case invalidField(path: String, problem: String)

    public var description: String {
        switch self {
        case .malformedJSON(let e): "not valid JSON at \(e)"
        case .missingField(let path): "missing field \"\(path)\""
        case .invalidField(let path, let problem): "field \"\(path)\": \(problem)"
        }
    }
}
