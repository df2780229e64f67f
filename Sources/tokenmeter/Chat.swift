import ArgumentParser
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterTokenizer

#if canImport(Glibc)
import Glibc
#endif

/// `tokenmeter chat`: streams one answer from an OpenAI-compatible server or Ollama to the terminal,
/// metered: completion tokens are counted locally as the text arrives, and the summary on stderr
/// shows the provider's counts when it reports them and the cost from the catalog.
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream a chat answer to the terminal, then print its tokens and cost.",
        discussion: """
            The answer goes to standard output as it arrives; the summary (prompt and completion \
            tokens, provider-reported when available, otherwise counted here; cost from the catalog) \
            goes to standard error. Ctrl-C cancels the request and closes the upstream connection.

            Exit status: 0 done; 64 usage error; 69 upstream unreachable or failed; 75 upstream timed \
            out; 76 upstream broke the stream protocol; 77 upstream refused the API key; 130 cancelled.
            """
    )

    @Option(name: .customLong("base-url"), help: "Upstream base URL: OpenAI-compatible including /v1 (https://api.openai.com/v1), or Ollama's (http://127.0.0.1:11434) with --ollama.")
    var baseURL: String

    @Flag(help: "Use Ollama's native /api/chat (NDJSON) instead of the OpenAI-compatible API.")
    var ollama = false

    @Option(name: .shortAndLong, help: "Model name, as the upstream knows it.")
    var model: String

    @Option(name: .customLong("api-key-env"), help: "Environment variable holding the upstream API key (default OPENAI_API_KEY when set).")
    var apiKeyEnv: String?

    @Option(help: "A system message to send before the prompt.")
    var system: String?

    @Option(name: .customLong("max-tokens"), help: "Maximum completion tokens to ask for.")
    var maxTokens: Int?

    @Option(help: "A catalog file merged over the bundled one (prices, docs/CATALOG.md).")
    var catalog: String?

    @Argument(help: "The prompt.")
    var prompt: String

    func validate() throws {
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1, got \(maxTokens)") }
        if !baseURL.hasPrefix("http://") && !baseURL.hasPrefix("https://") {
            throw ValidationError("--base-url must start with http:// or https://, got '\(baseURL)'")
        }
    }

    func run() async throws {
        let apiKey: String?
        if let apiKeyEnv {
            guard let key = FileSystemEnvironment.value(apiKeyEnv) else {
                throw CLIFailure(.usage, "environment variable \(apiKeyEnv) (from --api-key-env) is not set").report()
            }
            apiKey = key
        } else {
            apiKey = ollama ? nil : FileSystemEnvironment.value("OPENAI_API_KEY")
        }
        let meter: ChatMeter
        do {
            var cat = try ModelCatalog.bundled()
            if let catalog { cat = try cat.merging(fileAt: catalog) }
            var messages: [(role: String, content: String)] = []
            if let system { messages.append(("system", system)) }
            messages.append(("user", prompt))
            meter = try ChatMeter(catalog: cat, model: model, messages: messages)
        } catch {
            throw CLIFailure(.usage, "\(error)").report()
        }

        let upstream = Upstream(baseURL: baseURL, provider: ollama ? .ollama : .openAICompatible, apiKey: apiKey)
        var messages: [ChatMessage] = []
        if let system { messages.append(.init(role: "system", content: system)) }
        messages.append(.init(role: "user", content: prompt))
        let request = ChatRequest(model: model, messages: messages, maxTokens: maxTokens)

        let client: ChatClient
        do { client = try ChatClient() } catch { throw CLIFailure(.software, "\(error)").report() }
        defer { client.shutdown() }

        // Ctrl-C cancels the streaming task; cancellation reaches the socket through the client.
        let streaming = Task { () throws(ChatClientError) -> ChatMeter in
            var meter = meter
            for try await event in client.stream(request, to: upstream) {
                if let text = event.content, !text.isEmpty {
                    StandardStreams.writeUnbuffered(text)
                    meter.received(text)
                }
                if let usage = event.usage { meter.providerUsage = usage }
                if let reason = event.finishReason { meter.finishReason = reason.rawValue }
            }
            return meter
        }
        let interrupt = InterruptWatch { streaming.cancel() }
        defer { interrupt.cancel() }

        switch await streaming.result {
        case .success(let finished):
            StandardStreams.writeError("\n" + finished.summary(cancelled: false) + "\n")
        case .failure(let error as ChatClientError):
            if case .cancelled = error {
                StandardStreams.writeError("\n" + meter.summary(cancelled: true) + "\n")
                throw ExitStatus.interrupted.exitCode
            }
            throw ChatFailure(error).report()
        case .failure(let error):
            throw CLIFailure(.software, "\(error)").report()
        }
    }
}

/// What `chat` knows of the request's tokens and cost as the answer streams.
struct ChatMeter: Sendable {
    let model: String
    let resolved: ResolvedModel?
    let encoding: Encoding
    let promptCount: PromptCount
    private var completionText = ""
    var providerUsage: ChatUsage?
    var finishReason: String?

    init(catalog: ModelCatalog, model: String, messages: [(role: String, content: String)]) throws {
        self.model = model
        resolved = try? catalog.resolve(model)
        let encodingName = resolved?.model.encoding.encodingName ?? EncodingName.o200k_base.rawValue
        encoding = try Encoding.named(EncodingName.named(encodingName))
        let counter = ChatPromptCounter(model: resolved?.model ?? CatalogModel(name: model, provider: "unknown",
                                                                                encoding: .approximate(using: encodingName),
                                                                                contextWindow: 0, maxOutputTokens: 0, price: nil),
                                        countText: { [encoding] in encoding.count($0) })
        promptCount = counter.count(ChatPrompt(
            messages: messages.map { PromptMessage(role: $0.role, content: $0.content) }))
    }

    /// Adds streamed text; the completion count is of all text received, exactly.
    mutating func received(_ text: String) { completionText += text }

    var localCompletionTokens: Int { encoding.count(completionText) }

    /// One line: tokens (and where they come from) and the cost.
    func summary(cancelled: Bool) -> String {
        let local = localCompletionTokens
        let prompt: Int, completion: Int, cached: Int, source: String
        if let u = providerUsage {
            (prompt, completion, cached, source) = (u.promptTokens, u.completionTokens, u.cachedTokens ?? 0, "provider-reported")
        } else {
            (prompt, completion, cached, source) = (promptCount.tokens, local, 0, "counted locally (\(encoding.name.rawValue))")
        }
        var line = "[\(model)] prompt \(prompt) tokens, completion \(completion) tokens, \(source)"
        if providerUsage != nil { line += "; counted locally: prompt \(promptCount.tokens), completion \(local)" }
        if let finishReason { line += "; finish: \(finishReason)" }
        if cancelled { line += "; cancelled after \(local) tokens" }
        guard let resolved else { return line + "; cost unknown: '\(model)' is not in the catalog" }
        do {
            let price = try resolved.model.billingPrice()
            let cost = try price.cost(promptTokens: prompt, cachedTokens: cached, completionTokens: completion)
            return line + "; cost \(cost) (\(resolved.model.name), prices of \(price.date))"
        } catch {
            return line + "; cost unknown: \(error)"
        }
    }
}

/// Exit codes for upstream failures.
struct ChatFailure {
    let error: ChatClientError
    init(_ error: ChatClientError) { self.error = error }

    func report() -> ExitCode {
        let status: ExitStatus
        switch error {
        case .httpStatus(let code, _, _) where code == 401 || code == 403: status = .noPermission
        case .timeout: status = .tempFail
        case .malformedStream: status = .protocolError
        case .invalidRequest: status = .usage
        default: status = .unavailable
        }
        StandardStreams.writeError("\ntokenmeter: error: \(error)\n")
        return status.exitCode
    }
}

/// Reads environment variables (a non-empty value or nil).
enum FileSystemEnvironment {
    static func value(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }
}
