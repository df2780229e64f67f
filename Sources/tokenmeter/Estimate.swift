import ArgumentParser
import TokenMeterCatalog

/// `tokenmeter estimate`: what a prompt or chat request will cost before it is sent. A thin layer
/// over `Estimator`: it gathers inputs and options, prints the report, and maps errors to sysexits.
struct Estimate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Estimate prompt tokens, cost and context fit of prompts or chat requests before sending them.",
        discussion: """
            Inputs are prompt text files (each counted as one user message, or as bare text with --raw), \
            folders of them, standard input, or OpenAI chat request bodies given with --request (files \
            or folders). For each input and model it prints the prompt tokens, the output allowance \
            (the request's max_completion_tokens/max_tokens, else --max-output, else the model's \
            maximum cut to what fits beside the prompt), the cost of the prompt alone and of the worst \
            case (prompt + full allowance), whether the prompt fits the model's input limit and context \
            window (with the allowance, when it is a cap that would be sent), and whether the count is exact. Costs are \
            exact (integer pico-dollars). Inputs are counted two at a time.

            Exit status: 0 ok (also when a prompt is over the context window, unless --strict); \
            1 over the context window with --strict; 64 usage error or unknown model; 65 malformed \
            JSON (with line and column), bad request field or bad catalog file; 66 missing input or \
            catalog file; 72 tokenizer vocabulary files missing.
            """
    )

    @Option(name: .customLong("request"), help: ArgumentHelp("An OpenAI chat request body (JSON) or a folder of them; repeatable; '-' reads standard input.", valueName: "file"))
    var requests: [String] = []

    @Argument(help: ArgumentHelp("Prompt text files or folders; '-' or nothing (and no --request) reads standard input.", valueName: "file"))
    var files: [String] = []

    @Option(name: .customLong("model"), help: ArgumentHelp("A model to estimate for (name, alias, dated snapshot or Ollama tag); repeatable. Default: the request's model.", valueName: "name"))
    var models: [String] = []

    @Flag(help: "Estimate for every priced catalog model, cheapest worst case first.")
    var compare = false

    @Option(name: .customLong("max-output"), help: ArgumentHelp("Output allowance in tokens when a request sets none (default: the model's maximum output).", valueName: "n"))
    var maxOutput: Int?

    @Option(name: .customLong("service-tier"), help: ArgumentHelp("Price in this OpenAI service tier (flex, priority) instead of the standard prices; a model without a price for it shows no cost.", valueName: "name"))
    var serviceTier: String?

    @Option(help: ArgumentHelp("A catalog file merged over the bundled one (docs/CATALOG.md).", valueName: "file"))
    var catalog: String?

    @Flag(help: "Print JSON (rows with prompt_tokens, max_output_tokens, cost strings in USD, exact flag; totals).")
    var json = false

    @Flag(help: "Exit 1 when a prompt does not fit its model's context window.")
    var strict = false

    @Flag(help: "Count text inputs as bare text, without the chat framing of a user message.")
    var raw = false

    func validate() throws {
        if compare, !models.isEmpty { throw ValidationError("give either --compare or --model, not both") }
        if let n = maxOutput, n < 1 { throw ValidationError("--max-output must be at least 1, got \(n)") }
    }

    func run() async throws {
        do {
            var cat = try ModelCatalog.bundled()
            if let catalog { cat = try cat.merging(fileAt: catalog) }
            var inputs = try EstimateInput.files(requests.filter { $0 != "-" }, asRequests: true)
            if requests.contains("-") { inputs.append(.request(name: "stdin", try StandardStreams.read("-"))) }
            let textPaths = files.filter { $0 != "-" }
            inputs += try EstimateInput.files(textPaths, asRequests: false)
            if files.contains("-") || (files.isEmpty && requests.isEmpty) {
                inputs.append(.text(name: "stdin", String(decoding: try StandardStreams.readText("-"), as: UTF8.self)))
            }
            let selection: ModelSelection = compare ? .compare : models.isEmpty ? .fromRequest : .named(models)
            let estimator = Estimator(catalog: cat, counters: TiktokenCounters())
            let report = try await estimator.estimate(inputs, models: selection,
                                                      options: EstimateOptions(maxOutput: maxOutput, serviceTier: serviceTier, rawText: raw, workers: 2))
            try StandardStreams.write(json ? report.jsonText() + "\n" : report.tableText())
            if strict, report.anyOverContext {
                StandardStreams.writeError("tokenmeter: error: a prompt exceeds its model's context window (--strict)\n")
                throw ExitStatus.overContext.exitCode
            }
        } catch let e as ExitCode {
            throw e
        } catch let e as CLIFailure {
            throw e.report()
        } catch let e as CatalogError {
            throw CLIFailure(estimateError: .catalog(e)).report()
        } catch let e as EstimateError {
            throw CLIFailure(estimateError: e).report()
        } catch {
            throw CLIFailure(error).report()
        }
    }
}

extension CLIFailure {
    /// The sysexits code and message for an estimate failure.
    init(estimateError e: EstimateError) {
        switch e.category {
        case .usage: self.init(.usage, e.description)
        case .dataError: self.init(.dataError, e.description)
        case .noInput: self.init(.noInput, e.description)
        case .environment: self.init(.osFile, e.description)
        }
    }
}
