import ArgumentParser

/// The `tokenmeter` command line. On the catalog branch it lists only `estimate`; the lead merges
/// the other subcommands (count, encode, decode, chat, serve, ...) into this list.
@main
struct TokenMeterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenmeter",
        abstract: "Token counting, cost estimates and a metered gateway for LLM chat completions.",
        subcommands: [Estimate.self]
    )
}
