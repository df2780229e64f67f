import ArgumentParser
import TokenMeterTokenizer

/// `tokenmeter encode`: token ids of a file or standard input.
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a file or standard input, separated by spaces, on one line."
    )

    @OptionGroup var encodingOptions: EncodingOptions

    @Option(name: .customLong("allow-special"),
            help: "Encode this special token (e.g. '<|endoftext|>') as its special id; repeatable; 'all' allows every one. Otherwise special-token text is ordinary text.")
    var allowedSpecial: [String] = []

    @Argument(help: "File to encode; '-' or none reads standard input.")
    var file: String = "-"

    func run() throws {
        try reportingFailures {
            let encoding = try encodingOptions.load()
            let bytes = try StandardStreams.readText(file)
            let ids: [Int]
            if allowedSpecial.isEmpty {
                ids = bytes.withUnsafeBufferPointer { encoding.encode(utf8: $0) }
            } else {
                let allowed = allowedSpecial.contains("all") ? encoding.allSpecialTokens : Set(allowedSpecial)
                ids = try encoding.encode(String(decoding: bytes, as: UTF8.self), allowedSpecial: allowed)
            }
            var out: [UInt8] = []
            out.reserveCapacity(ids.count * 7)
            for (i, id) in ids.enumerated() {
                if i > 0 { out.append(0x20) }
                out.append(contentsOf: String(id).utf8)
            }
            out.append(0x0A)
            try StandardStreams.write(out)
        }
    }
}
