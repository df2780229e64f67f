import ArgumentParser

struct Estimate: AsyncParsableCommand {
    func run() async throws {}
}
