import ArgumentParser

/// The `tokenmeter` command line: a thin layer over the TokenMeter libraries.
@main
struct TokenMeterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenmeter",
        abstract: "A token-metered gateway for streamed LLM chat completions.",
        subcommands: [Users.self, Keys.self]
    )
}
