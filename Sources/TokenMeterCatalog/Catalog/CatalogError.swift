import TokenMeterJSON

/// Everything that can go wrong loading a catalog or looking a model up in it. Each message names
/// the file, the entry and the field, and says what to do.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The catalog file does not exist.
    case fileNotFound(path: String)
    /// The file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not valid JSON.
    case malformedJSON(origin: String, JSONSyntaxError)
    /// A field is missing, of the wrong type or out of range. `entry` names the model
    /// (`models[3] "gpt-4o"`) or is empty for top-level fields.
    case invalidField(origin: String, entry: String, field: String, problem: String)
    /// Two entries claim the same name or alias.
    case duplicateName(origin: String, name: String, firstEntry: String, secondEntry: String)
    /// No model of that name, alias, snapshot or tag; `suggestions` are the closest names.
    case unknownModel(name: String, suggestions: [String])
    /// The model has no price in the catalog, so it cannot be billed.
    case unpriced(model: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "catalog file \(path) does not exist"
        case .unreadable(let path, let reason):
            return "cannot read catalog file \(path): \(reason)"
        case .malformedJSON(let origin, let e):
            return "\(origin): not valid JSON at \(e)"
        case .invalidField(let origin, let entry, let field, let problem):
            let whereText = entry.isEmpty ? "field \"\(field)\"" : "\(entry), field \"\(field)\""
            return "\(origin): \(whereText): \(problem)"
        case .duplicateName(let origin, let name, let first, let second):
            return "\(origin): the name \"\(name)\" is used by both \(first) and \(second); names and aliases must be unique"
        case .unknownModel(let name, let suggestions):
            let hint = suggestions.isEmpty ? "" : "; closest: \(suggestions.joined(separator: ", "))"
            return "unknown model \"\(name)\"\(hint) (add it with --catalog FILE, see docs/CATALOG.md)"
        case .unpriced(let model):
            return "model \"\(model)\" has no price in the catalog and cannot be billed; add a \"price\" with source and date in a catalog file"
        }
    }
}
