import ArgumentParser
import TokenMeterCatalog
import TokenMeterTokenizer
import TokenMeterJSON

/// `tokenmeter count`: tokens per input, like `wc`.
struct Count: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count the tokens of files or standard input.",
        discussion: """
            With one input, prints the count alone. With several, prints 'COUNT FILE' lines and then \
            'COUNT total', like wc. Special-token text such as <|endoftext|> counts as ordinary text.
            """
    )

    @OptionGroup var encodingOptions: EncodingOptions

    @Flag(help: "Print JSON: {\"encoding\", \"inputs\": [{\"name\", \"bytes\", \"tokens\"}], \"total\"}.")
    var json = false

    @Argument(help: "Files to count; '-' or none reads standard input.")
    var files: [String] = []

    func run() throws {
        try reportingFailures {
            let encoding = try encodingOptions.load()
            let inputs = files.isEmpty ? ["-"] : files
            var rows: [(name: String, bytes: Int, tokens: Int)] = []
            for path in inputs {
                let bytes = try StandardStreams.readText(path)
                let tokens = bytes.withUnsafeBufferPointer { encoding.count(utf8: $0) }
                rows.append((path, bytes.count, tokens))
            }
            let total = rows.reduce(0) { $0 + $1.tokens }
            if json {
                let items = rows.map { "{\"name\":\(JSONValue.quoted($0.name)),\"bytes\":\($0.bytes),\"tokens\":\($0.tokens)}" }
                try StandardStreams.write("{\"encoding\":\"\(encoding.name.rawValue)\",\"inputs\":[\(items.joined(separator: ","))],\"total\":\(total)}\n")
            } else if rows.count == 1 {
                try StandardStreams.write("\(total)\n")
            } else {
                let width = String(total).count
                var out = ""
                for row in rows { out += pad(row.tokens, width) + " " + row.name + "\n" }
                out += pad(total, width) + " total\n"
                try StandardStreams.write(out)
            }
        }
    }

    private func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
