import ArgumentParser
import TokenMeterTokenizer

/// `tokenmeter decode`: the text behind token ids.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the text of token ids given as arguments or on standard input.",
        discussion: "Writes the decoded bytes exactly (no newline is added), so encode | decode round-trips."
    )

    @OptionGroup var encodingOptions: EncodingOptions

    @Argument(help: "Token ids; none reads whitespace-separated ids from standard input.")
    var ids: [String] = []

    func run() throws {
        try reportingFailures {
            let encoding = try encodingOptions.load()
            let words: [Substring]
            if ids.isEmpty {
                let input = try StandardStreams.read("-")
                words = String(decoding: input, as: UTF8.self).split(whereSeparator: { $0.isWhitespace })
            } else {
                words = ids.flatMap { $0.split(whereSeparator: { $0.isWhitespace || $0 == "," }) }
            }
            var numbers: [Int] = []
            numbers.reserveCapacity(words.count)
            for word in words {
                guard let n = Int(word) else { throw CLIFailure(.dataError, "'\(word)' is not a token id") }
                numbers.append(n)
            }
            try StandardStreams.write(try encoding.decode(numbers))
        }
    }
}
