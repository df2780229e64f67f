/// A strict RFC 4180 parser for the tests: fields separated by commas, records by CRLF, quoted fields
/// may hold commas, CR, LF and doubled quotes. Throws on anything else (a bare quote inside an unquoted
/// field, text after a closing quote, a missing final CRLF), so a sloppy writer fails the test.
enum CSVParser {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        var fieldStarted = false
        while i < scalars.count {
            let c = scalars[i]
            if c == "\"" && field.isEmpty && !fieldStarted {
                // A quoted field: up to the closing quote; "" is one quote.
                i += 1
                while true {
                    guard i < scalars.count else { throw Malformed(description: "unterminated quoted field") }
                    if scalars[i] == "\"" {
                        if i + 1 < scalars.count && scalars[i + 1] == "\"" { field.append("\""); i += 2; continue }
                        i += 1
                        break
                    }
                    field.append(scalars[i])
                    i += 1
                }
                guard i < scalars.count, scalars[i] == "," || scalars[i] == "\r" else {
                    throw Malformed(description: "text after a closing quote at scalar \(i)")
                }
                fieldStarted = true
                continue
            }
            switch c {
            case ",":
                record.append(String(field)); field = .init(); fieldStarted = false
                i += 1
            case "\r":
                guard i + 1 < scalars.count, scalars[i + 1] == "\n" else { throw Malformed(description: "CR without LF") }
                record.append(String(field)); field = .init(); fieldStarted = false
                records.append(record); record = []
                i += 2
            case "\n":
                throw Malformed(description: "a bare LF ends a record at scalar \(i) (RFC 4180 wants CRLF)")
            case "\"":
                throw Malformed(description: "a quote inside an unquoted field at scalar \(i)")
            default:
                field.append(c); fieldStarted = true
                i += 1
            }
        }
        guard record.isEmpty && field.isEmpty else { throw Malformed(description: "the last record has no CRLF") }
        return records
    }
}
