import ArgumentParser

/// `tokenmeter`: the command line of TokenMeter. Each subcommand is a thin layer over library code;
/// exit codes follow sysexits(3).
@main
struct TokenMeterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenmeter",
        abstract: "Count, price and meter LLM tokens exactly as OpenAI's tokenizer does.",
        version: TokenMeterVersion.current,
        subcommands: [Count.self, Encode.self, Decode.self, Estimate.self, Chat.self, Serve.self, Users.self, Keys.self,
                      Report.self, LedgerCommand.self, Demo.self]
    )
}
