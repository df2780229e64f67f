/// Columns of text for a terminal: a header row, text left-aligned, numbers right-aligned, two spaces
/// between columns and no trailing spaces. Widths count Unicode characters.
struct AlignedTable {
    /// How a column's cells line up.
    enum Alignment {
        case left
        case right
    }

    private let header: [String]
    private let alignments: [Alignment]
    private var rows: [[String]] = []

    /// A table whose columns are `columns` (title and alignment).
    init(_ columns: [(String, Alignment)]) {
        header = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    /// Appends a row; it must have one cell per column.
    mutating func add(_ cells: [String]) {
        precondition(cells.count == header.count, "a row of \(cells.count) cells in a table of \(header.count) columns")
        rows.append(cells)
    }

    /// Appends a separator line of dashes under every column.
    mutating func addRule() { rows.append(header.map { _ in "\u{0}" }) }

    /// The table as lines joined by `\n`, without a final newline.
    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i] == "\u{0}" ? 0 : $0[i].count }.max() ?? 0 }
        return all.map { row in
            var line = ""
            for (i, cell) in row.enumerated() {
                let text = cell == "\u{0}" ? String(repeating: "-", count: widths[i]) : cell
                let padding = String(repeating: " ", count: widths[i] - text.count)
                if i > 0 { line += "  " }
                line += alignments[i] == .right ? padding + text : text + padding
            }
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
