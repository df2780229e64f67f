import ArgumentParser
import TokenMeterTokenizer

/// `--model` / `--encoding`, shared by the tokenizer subcommands. Default: o200k_base.
struct EncodingOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Model name; its encoding is used (for example gpt-4o, gpt-4, gpt-5-mini).")
    var model: String?

    @Option(name: .shortAndLong, help: "Encoding: cl100k_base, o200k_base or o200k_harmony (default o200k_base).")
    var encoding: String?

    func validate() throws {
        if model != nil && encoding != nil {
            throw ValidationError("give --model or --encoding, not both")
        }
    }

    /// The loaded encoding these options name.
    func load() throws(CLIFailure) -> Encoding {
        do {
            if let model { return try Encoding.forModel(model) }
            return try Encoding.named(EncodingName.named(encoding ?? EncodingName.o200k_base.rawValue))
        } catch {
            throw CLIFailure(error)
        }
    }
}
