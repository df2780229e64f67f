import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream

/// What `tokenmeter demo` puts around the real gateway: the simulated upstream's two models (their canned
/// answers and catalog entries) and the demo user's budget, chosen so that one model's answer fits a request's
/// budget and the other's is cut.
enum DemoSetup {
    /// The model whose short answer fits the demo user's per-request cap.
    static let chatModel = "simulated-chat"
    /// The model whose long answer costs more than the per-request cap, so the gateway cuts it.
    static let essayModel = "simulated-essay"
    /// The demo user's name.
    static let userName = "demo"
    /// Pause before each chunk of an answer (milliseconds): slow enough to watch a stream arrive.
    static let chunkMilliseconds = 30

    /// $0.00005 a request: at the models' $0.60 per million output tokens that pays for about 80 completion
    /// tokens after a short prompt: more than ``chatAnswer`` needs and under half of ``essayAnswer``.
    static let maxRequestCost = Money(picoUSD: 50_000_000)
    /// $0.01 a month: room for about 200 of the demo's requests, so trying the commands again keeps working.
    static let monthlyLimit = Money(picoUSD: 10_000_000_000)
    /// The demo user's limits.
    static let budget = Budget(monthlyLimit: monthlyLimit, maxRequestCost: maxRequestCost)

    static let chatAnswer = """
        [simulated] Hello from TokenMeter's simulated upstream. No model wrote this: it is canned text, sent in \
        small chunks \(chunkMilliseconds) ms apart so you can watch a stream arrive. The gateway in front of it is the real one: \
        it counted every token and billed the demo user.
        """

    static let essayAnswer = """
        [simulated] This canned answer from TokenMeter's simulated upstream is longer than the demo user may pay \
        for in one request. The user may spend at most \(maxRequestCost) per request, and at this simulated \
        model's price that buys about 80 completion tokens after a short prompt. TokenMeter counts the tokens of \
        every chunk as it streams by. When the next chunk would cost more than the request may spend, the \
        gateway keeps exactly the tokens that were paid for, closes the connection to the upstream, and ends \
        the stream with finish_reason "length" and a "tokenmeter" field that says cut_by_budget. The ledger \
        records the request as cut_by_budget and bills exactly what was delivered. The rest of this answer only \
        makes it long enough that the cut comes well before its end, whatever the prompt: a stream that shows \
        this sentence was not cut.
        """

    /// What the simulated upstream answers for each model. Another model gets a 404 that says which models
    /// it serves, so no answer can pass for a real model's.
    static func configure(_ upstream: SimulatedUpstream) {
        upstream.setScenario(scenario(chatAnswer), forModel: chatModel)
        upstream.setScenario(scenario(essayAnswer), forModel: essayModel)
        upstream.setDefaultScenario(UpstreamScenario(fault: .status(
            404, message: "tokenmeter demo: the simulated upstream answers only \(chatModel) and \(essayModel)",
            type: "invalid_request_error", code: "model_not_found")))
    }

    /// A paced stream of `text` word by word. It sends no usage chunk: a simulator has no tokenizer, so the
    /// gateway bills by its own count, which is the one the demo shows.
    private static func scenario(_ text: String) -> UpstreamScenario {
        var words: [String] = []
        for character in text {
            if character == " " || words.isEmpty { words.append("") }
            words[words.count - 1].append(character)
        }
        return UpstreamScenario(chunks: words, interval: .milliseconds(chunkMilliseconds), sendsUsage: false)
    }

    /// A catalog file (docs/CATALOG.md) adding the two models, merged over the bundled catalog so the
    /// gateway can count and price them. They are counted with o200k_base and priced like gpt-4o-mini, so
    /// the costs look like a real small model's.
    static var catalogJSON: String {
        let entries = [chatModel, essayModel].map { name in
            """
                {"name": "\(name)", "provider": "simulated", "encoding": "o200k_base",
                 "context_window": 128000, "max_output_tokens": 16384,
                 "price": {"input": "0.15", "output": "0.60", "date": "2026-11-25",
                           "source": "tokenmeter demo: gpt-4o-mini's list price; no provider bills a simulated model"},
                 "note": "answered by tokenmeter demo's simulated upstream: canned text, no model"}
            """
        }
        return """
            {"format": 1, "description": "tokenmeter demo: the simulated upstream's models",
             "models": [
            \(entries.joined(separator: ",\n"))
             ]}

            """
    }
}
