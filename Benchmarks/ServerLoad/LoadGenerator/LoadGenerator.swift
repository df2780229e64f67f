import Foundation
import Synchronization
import TokenMeterClient
import TokenMeterJSON

/// Closed-loop load generator for the gateway benchmark and soak (Benchmarks/server.sh, `make soak`).
///
/// `--concurrency C` virtual users each stream a chat completion (or, with `--api responses`, a response of
/// the Responses API) and start the next one as soon as theirs ends. Per request it measures the time to first token (from sending the request to the first event with
/// content) and every gap between two content events. `--engine socket` (the default, ``SocketStreams``)
/// runs all users on one thread over plain sockets and timestamps each event as its bytes are read;
/// `--engine client` uses TokenMeter's libcurl `ChatClient` (heavier: see ``SocketStreams`` for why the
/// socket engine is the default). `--hold` always uses the client. The first `--warmup` requests
/// (default C) are not counted; the users do not stop between them and the measured ones. Around the
/// measured requests it reads CPU time (utime + stime), RSS, open file descriptors and threads of the
/// processes named with `--pid name=PID` and of itself from /proc. Prints one JSON object.
///
/// The users start spread evenly over `--ramp-ms` (default 1000): user i begins i/C of the way in. Started
/// all at once, C streams of equal length stay in step for the whole run, and every token interval brings
/// one burst of C chunks within a millisecond or so; real clients' streams are not in step. `--ramp-ms 0`
/// starts them together (the worst case).
///
///     tokenmeter-loadgen --url http://127.0.0.1:8080/v1 --key tm_… --label gateway -c 50 --requests 2000 \
///         [--model gpt-4o-mini] [--warmup N] [--ramp-ms 1000] [--engine socket|client] [--api chat|responses]
///         [--history-tokens 100000]
///         [--pid gateway=123 --pid upstream=456] [--sample-every 1000]
///     tokenmeter-loadgen … --hold -c 500     # open C streams, wait for the first token of each, sample, close
///
/// `--sample-every K` also prints a JSON line with the watched processes' RSS, FDs and threads every K
/// completed measured requests (the soak's curve).
@main
struct LoadGenerator {
    static func main() async throws {
        let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
        var configuration = ChatClient.Configuration()
        configuration.maxIdleConnections = max(64, options.concurrency * 2)
        let client = try ChatClient(configuration: configuration)
        let responses = options.api == .responses
        let target = Upstream(baseURL: options.url, provider: responses ? .openAIResponses : .openAICompatible, apiKey: options.key)
        let request = responses
            ? ChatRequest(body: ["model": .string(options.model), "input": .string(Self.prompt)])
            : ChatRequest(model: options.model, messages: [ChatMessage(role: "user", content: Self.prompt)])
        let watched = options.pids + [("loadgen", getpid())]

        if options.hold {
            let result = await hold(client: client, target: target, request: request, streams: options.concurrency, watched: watched)
            print(result)
            return
        }
        let start = MeasuredStart()
        let outcome: Outcome
        switch options.engine {
        case .client:
            outcome = await run(client: client, target: target, request: request, options: options, watched: watched, start: start)
        case .socket:
            outcome = try runSockets(options: options, watched: watched, start: start)
        }
        let after = watched.map { ProcessSample(name: $0.0, pid: $0.1) }
        let (started, before) = start.value.withLock { ($0.at ?? .now, $0.before) }
        let elapsed = seconds(ContinuousClock.now - started)
        print(report(options: options, outcome: outcome, elapsed: elapsed, before: before, after: after))
        client.shutdown()
    }

    /// What every request asks.
    static let prompt = "Write a short poem about meters."

    /// A conversation of about `tokens` tokens (o200k_base) as JSON message objects, each followed by a comma:
    /// user and assistant turns of about 1,000 tokens each.
    static func history(tokens: Int) -> String {
        // 12 tokens in o200k_base (and in cl100k_base).
        let sentence = "The gateway meters every token of this long conversation again. "
        let turn = String(repeating: sentence, count: 83)
        return (0..<max(1, tokens / 1_000)).map { i in
            "{\"role\":\"\(i % 2 == 0 ? "user" : "assistant")\",\"content\":\"Turn \(i). \(turn)\"},"
        }.joined()
    }

    /// What the measured requests saw.
    struct Outcome: Sendable {
        var ttft: [Double] = []
        var gaps: [Double] = []
        var tokens = 0
        var failures = 0
        var firstErrors: [String] = []

        /// Counts one measured request.
        mutating func add(_ sample: Sample) {
            if let error = sample.error {
                failures += 1
                if firstErrors.count < 3 { firstErrors.append(error) }
            } else {
                ttft.append(sample.ttft!)
                gaps += sample.gaps
                tokens += sample.tokens
            }
        }
    }

    /// One request's measurements (milliseconds).
    struct Sample: Sendable {
        var ttft: Double?
        var gaps: [Double] = []
        var tokens = 0
        var error: String?
    }

    static func stream(client: ChatClient, target: Upstream, request: ChatRequest) async -> Sample {
        var sample = Sample()
        let start = ContinuousClock.now
        var last = start
        do {
            for try await event in client.stream(request, to: target) where !(event.content ?? "").isEmpty {
                let now = ContinuousClock.now
                if sample.ttft == nil { sample.ttft = milliseconds(now - start) } else { sample.gaps.append(milliseconds(now - last)) }
                last = now
                sample.tokens += 1
            }
            if sample.tokens == 0 { sample.error = "the stream ended without content" }
        } catch {
            sample.error = "\(error)"
        }
        return sample
    }

    /// When the measured requests began, and the watched processes sampled at that moment.
    final class MeasuredStart: Sendable {
        struct Value {
            var at: ContinuousClock.Instant?
            var before: [ProcessSample] = []
        }
        let value = Mutex(Value())
    }

    /// C virtual users in a closed loop, started over the ramp, until `warmup + requests` have been issued;
    /// only the last `requests` are measured. The user that issues the first measured request samples the
    /// watched processes into `start` first.
    static func run(client: ChatClient, target: Upstream, request: ChatRequest, options: Options,
                    watched: [(String, Int32)], start: MeasuredStart) async -> Outcome {
        let issued = Counter(), completed = Counter()
        let (concurrency, warmup, sampleEvery) = (options.concurrency, options.warmup, options.sampleEvery)
        let total = warmup + options.requests
        let ramp = Duration.milliseconds(options.rampMilliseconds)
        return await withTaskGroup(of: Outcome.self) { group in
            for user in 0..<concurrency {
                group.addTask {
                    var outcome = Outcome()
                    if user > 0, ramp > .zero { try? await Task.sleep(for: ramp * Double(user) / Double(concurrency)) }
                    while true {
                        let index = issued.value.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < total else { break }
                        if index == warmup {
                            let before = watched.map { ProcessSample(name: $0.0, pid: $0.1) }
                            start.value.withLock { $0 = .init(at: .now, before: before) }
                        }
                        let sample = await stream(client: client, target: target, request: request)
                        guard index >= warmup else { continue }
                        outcome.add(sample)
                        printCurvePoint(completed: completed.value.wrappingAdd(1, ordering: .relaxed).newValue,
                                        every: sampleEvery, watched: watched)
                    }
                    return outcome
                }
            }
            var all = Outcome()
            for await part in group {
                all.ttft += part.ttft
                all.gaps += part.gaps
                all.tokens += part.tokens
                all.failures += part.failures
                all.firstErrors += part.firstErrors.prefix(3 - min(3, all.firstErrors.count))
            }
            return all
        }
    }

    /// Every `every` completed measured requests, one JSON line with the watched processes' figures.
    static func printCurvePoint(completed: Int, every: Int, watched: [(String, Int32)]) {
        guard every > 0, completed % every == 0 else { return }
        let samples = watched.map { ProcessSample(name: $0.0, pid: $0.1) }
        let line = "{\"completed\":\(completed),\"processes\":{\(samples.map(\.json).joined(separator: ","))}}\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// The closed loop of ``run(client:target:request:options:watched:start:)`` on the socket engine, on the
    /// calling thread (this process has nothing else to run meanwhile).
    static func runSockets(options: Options, watched: [(String, Int32)], start: MeasuredStart) throws -> Outcome {
        let history = options.historyTokens > 0 ? Self.history(tokens: options.historyTokens) : ""
        let (model, api) = (options.model, options.api)
        let engine = try SocketStreams(url: options.url, key: options.key, api: api) { index in
            if api == .responses { return "{\"model\":\"\(model)\",\"input\":\"\(prompt)\",\"stream\":true}" }
            // With a history, every request re-sends it with one new question, as a chat app does each turn.
            let ask = history.isEmpty ? prompt : "Question \(index): \(prompt)"
            return "{\"model\":\"\(model)\",\"messages\":[\(history){\"role\":\"user\",\"content\":\"\(ask)\"}],"
                + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
        }
        var outcome = Outcome()
        var completed = 0
        engine.run(concurrency: options.concurrency, total: options.warmup + options.requests,
                   ramp: .milliseconds(options.rampMilliseconds)) { index in
            guard index == options.warmup else { return }
            let before = watched.map { ProcessSample(name: $0.0, pid: $0.1) }
            start.value.withLock { $0 = .init(at: .now, before: before) }
        } finished: { index, sample in
            guard index >= options.warmup else { return }
            outcome.add(sample)
            completed += 1
            printCurvePoint(completed: completed, every: options.sampleEvery, watched: watched)
        }
        return outcome
    }

    /// Opens `streams` streams, waits until each has delivered its first token, samples the watched
    /// processes, then closes them all. Prints RSS before and while holding.
    static func hold(client: ChatClient, target: Upstream, request: ChatRequest, streams: Int, watched: [(String, Int32)]) async -> String {
        let before = watched.map { ProcessSample(name: $0.0, pid: $0.1) }
        let opened = Counter(), failed = Counter()
        let tasks = (0..<streams).map { _ in
            Task {
                var open = false
                do {
                    for try await event in client.stream(request, to: target) where !(event.content ?? "").isEmpty {
                        open = true
                        opened.value.wrappingAdd(1, ordering: .relaxed)
                        while !Task.isCancelled { try await Task.sleep(for: .seconds(1)) }
                        return
                    }
                } catch {}
                if !open { failed.value.wrappingAdd(1, ordering: .relaxed) }
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while opened.value.load(ordering: .relaxed) + failed.value.load(ordering: .relaxed) < streams, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        try? await Task.sleep(for: .seconds(2))  // let allocations settle
        let holding = watched.map { ProcessSample(name: $0.0, pid: $0.1) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        let perStream = zip(before, holding).map { b, h in
            "\"\(b.name)\":{\"rss_kb_before\":\(b.rssKB),\"rss_kb_holding\":\(h.rssKB),"
                + "\"rss_kb_per_stream\":\(String(format: "%.2f", Double(h.rssKB - b.rssKB) / Double(max(1, streams)))),"
                + "\"fds_before\":\(b.fds),\"fds_holding\":\(h.fds),\"threads_holding\":\(h.threads)}"
        }
        return "{\"mode\":\"hold\",\"streams\":\(streams),\"opened\":\(opened.value.load(ordering: .relaxed)),"
            + "\"failed\":\(failed.value.load(ordering: .relaxed)),\"processes\":{\(perStream.joined(separator: ","))}}"
    }

    static func report(options: Options, outcome: Outcome, elapsed: Double, before: [ProcessSample], after: [ProcessSample]) -> String {
        let ttft = outcome.ttft.sorted(), gaps = outcome.gaps.sorted()
        func p(_ s: [Double], _ q: Double) -> String {
            s.isEmpty ? "null" : String(format: "%.3f", s[min(s.count - 1, Int(Double(s.count) * q))])
        }
        let processes = zip(before, after).map { b, a in
            "\"\(a.name)\":{\"cpu_s\":\(String(format: "%.3f", a.cpuSeconds - b.cpuSeconds)),\"rss_kb\":\(a.rssKB),"
                + "\"fds\":\(a.fds),\"threads\":\(a.threads)}"
        }
        let errors = outcome.firstErrors.map(JSONValue.quoted)
        return "{\"label\":\"\(options.label)\",\"concurrency\":\(options.concurrency),\"requests\":\(options.requests),"
            + "\"ok\":\(ttft.count),\"failures\":\(outcome.failures),\"errors\":[\(errors.joined(separator: ","))],"
            + "\"ttft_ms\":{\"p50\":\(p(ttft, 0.5)),\"p90\":\(p(ttft, 0.9)),\"p99\":\(p(ttft, 0.99)),\"max\":\(p(ttft, 1))},"
            + "\"gap_ms\":{\"p50\":\(p(gaps, 0.5)),\"p99\":\(p(gaps, 0.99)),\"max\":\(p(gaps, 1))},"
            + "\"tokens\":\(outcome.tokens),\"seconds\":\(String(format: "%.3f", elapsed)),"
            + "\"streams_per_s\":\(String(format: "%.1f", Double(ttft.count) / elapsed)),"
            + "\"processes\":{\(processes.joined(separator: ","))}}"
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    static func seconds(_ d: Duration) -> Double { milliseconds(d) / 1000 }
}

/// A counter shared by the virtual users.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// CPU time, RSS, open FDs and threads of one process, from /proc.
struct ProcessSample: Sendable {
    let name: String
    var cpuSeconds = 0.0
    var rssKB = 0
    var fds = 0
    var threads = 0

    init(name: String, pid: Int32) {
        self.name = name
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after "pid (comm)": state is field 3, utime 14, stime 15 (clock ticks).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
            for line in status.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if line.hasPrefix("VmRSS:"), parts.count > 1 { rssKB = Int(parts[1]) ?? 0 }
                if line.hasPrefix("Threads:"), parts.count > 1 { threads = Int(parts[1]) ?? 0 }
            }
        }
        fds = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    var json: String {
        "\"\(name)\":{\"cpu_s\":\(String(format: "%.3f", cpuSeconds)),\"rss_kb\":\(rssKB),\"fds\":\(fds),\"threads\":\(threads)}"
    }
}

/// Command-line options.
struct Options {
    /// How the requests are made: ``SocketStreams`` (the default), or TokenMeter's libcurl `ChatClient`.
    enum Engine: String { case socket, client }
    /// Which API the requests use: chat completions (`POST …/chat/completions`) or the Responses API
    /// (`POST …/responses`).
    enum API: String { case chat, responses }

    var url = ""
    var key = "sk-bench"
    var model = "gpt-4o-mini"
    var label = "run"
    var concurrency = 1
    var requests = 100
    var warmup = -1
    var rampMilliseconds = 1000
    var sampleEvery = 0
    var hold = false
    var engine = Engine.socket
    var api = API.chat
    /// Tokens of conversation history re-sent before the one new question of every request (socket engine).
    var historyTokens = 0
    var pids: [(String, Int32)] = []

    static func parse(_ arguments: [String]) throws -> Options {
        var o = Options()
        var it = arguments.makeIterator()
        func value(_ name: String) -> String {
            guard let v = it.next() else { usage("\(name) needs a value") }
            return v
        }
        while let a = it.next() {
            switch a {
            case "--url": o.url = value(a)
            case "--key": o.key = value(a)
            case "--model": o.model = value(a)
            case "--label": o.label = value(a)
            case "-c", "--concurrency": o.concurrency = Int(value(a)) ?? 1
            case "--requests": o.requests = Int(value(a)) ?? 100
            case "--warmup": o.warmup = Int(value(a)) ?? 0
            case "--ramp-ms": o.rampMilliseconds = max(0, Int(value(a)) ?? 0)
            case "--sample-every": o.sampleEvery = Int(value(a)) ?? 0
            case "--hold": o.hold = true
            case "--engine":
                guard let engine = Engine(rawValue: value(a)) else { usage("--engine takes socket or client") }
                o.engine = engine
            case "--history-tokens": o.historyTokens = Int(value(a)) ?? 0
            case "--api":
                guard let api = API(rawValue: value(a)) else { usage("--api takes chat or responses") }
                o.api = api
            case "--pid":
                let pair = value(a).split(separator: "=")
                guard pair.count == 2, let pid = Int32(pair[1]) else { usage("--pid takes name=PID") }
                o.pids.append((String(pair[0]), pid))
            default: usage("unknown option \(a)")
            }
        }
        if o.url.isEmpty { usage("--url is required") }
        if o.warmup < 0 { o.warmup = o.concurrency }
        return o
    }

    static func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("tokenmeter-loadgen: \(message)\n".utf8))
        exit(64)
    }
}
