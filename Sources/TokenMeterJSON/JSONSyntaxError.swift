/// Why a document is not valid JSON, with the 1-based line and column (in Unicode scalars) where
/// the parser stopped.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number.
    public let line: Int
    /// 1-based column, counted in Unicode scalars from the start of the line.
    public let column: Int
    /// What was expected or found there, e.g. "expected ',' or '}' after an object member".
    public let reason: String

    public init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "line \(line), column \(column): \(reason)" }
}
