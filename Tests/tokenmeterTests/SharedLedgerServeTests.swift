import Foundation
import Testing
@testable import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream
import TokenMeterTestSupport
import TokenMeterTokenizer
import TokenMeterJSON

/// Several `tokenmeter serve` processes on one PostgreSQL ledger (docs/DEPLOYMENT.md): a budget shared across
/// gateways, a gateway killed with SIGKILL and settled by the others, a key revoked by the CLI, and the database
/// restarted under running streams. Real processes, a real PostgreSQL, the simulated upstream.
@Suite("tokenmeter serve on a shared PostgreSQL ledger")
struct SharedLedgerServeTests {
    static let prompt = "count for me"
    /// Single-token words (o200k_base), so an answer of n chunks is n tokens and the upstream's output cap (one
    /// chunk per token) and the gateway's count agree.
    static let words = [" the", " cat", " sat", " on", " a", " mat"]
    static let usageColumns = """
        prompt_tokens, completion_tokens, provider_prompt_tokens, provider_completion_tokens, provider_cached_tokens, \
        provider_reasoning_tokens, billed_by, billed_tokens, cost_pusd, estimated_completion_tokens, estimated_pusd
        """

    // MARK: - 1. Three gateways, one budget

    @Test("three gateways, one budget: 60 concurrent streams round-robin over them spend at most the budget and at least 90% of it; each gets a full answer, a clean cut or a 429; one record per served request with the tokens it delivered; nothing left open",
          .enabled(if: PostgresTestCluster.requirement.shouldRun))
    func threeGatewaysShareOneBudget() async throws {
        try PostgresTestCluster.requirement.check()
        // Three servers, PostgreSQL and 60 streams load a 2-core machine: keep the in-process server tests away.
        try await ProcessResourceGate.shared.exclusive { try await runThreeGateways() }
    }

    private func runThreeGateways() async throws {
        let db = try PostgresTestCluster.freshDatabase("shared-budget")
        defer { PostgresTestCluster.dropDatabase(url: db) }
        let janitor = ProcessJanitor()
        defer { janitor.killAll() }
        let answerTokens = 100
        let streamCount = 60
        let encoding = try Encoding.named(.o200k_base)
        // gpt-4o-mini: $0.15 / M input, $0.60 / M output. The chat rule: 3 per message + the role + the text + 3.
        let promptTokens = 3 + encoding.count("user") + encoding.count(Self.prompt) + 3
        // The upstream reports the same prompt count, so a stream it ends itself (billed by its usage) costs the same
        // as one the gateway cuts (billed by the local count).
        let scenario = UpstreamScenario(chunks: (0..<answerTokens).map { Self.words[$0 % Self.words.count] },
                                        interval: .milliseconds(5), promptTokens: promptTokens)
        try #require(encoding.count(scenario.text) == answerTokens)
        let upstream = try await SimulatedUpstream.start(defaultScenario: scenario)
        let (inputRate, outputRate): (Int64, Int64) = (150_000, 600_000)
        let answerCost = Int64(promptTokens) * inputRate + Int64(answerTokens) * outputRate
        let budget = answerCost * 21 / 2  // 10.5 answers
        let admin = try await Self.administration(db)
        let user = try await admin.addUser(name: "pooled", budget: Budget(monthlyLimit: Money(picoUSD: budget)))
        let key = try await admin.createAPIKey(userID: user.id).key

        let runner = try CLIRunner()
        let config = try Self.writeConfig(in: runner.directory, upstream: upstream, extra: """
            shared_ledger: {heartbeat_seconds: 1, instance_expiry_seconds: 10, max_connections: 10}
            """)
        let gateways = try await Self.startGateways(3, config: config, db: db, runner: runner, janitor: janitor)

        let started = ContinuousClock.now
        let results = await withTaskGroup(of: (Int, RawChatResult).self) { group in
            for i in 0..<streamCount {
                let port = gateways[i % 3].port
                group.addTask {
                    (i, await RawHTTP.chat(port: port, key: key, model: "gpt-4o-mini", prompt: Self.prompt, maxTokens: answerTokens))
                }
            }
            return await group.reduce(into: [Int: RawChatResult]()) { $0[$1.0] = $1.1 }
        }
        let streamed = started.duration(to: .now)

        let served = results.values.filter { $0.status == 200 }
        let settled = try await pollUntil(timeout: .seconds(15)) {
            let recorded = try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records")
            let open = try await PSQL.int(db, "SELECT COUNT(*) FROM reservations")
            return recorded >= Int64(served.count) && open == 0
        }
        #expect(settled, "records and open reservations did not settle within 15 s")
        let records = try await Self.records(db)

        var full = 0, cut = 0, refused = 0
        for i in 0..<streamCount {
            let result = try #require(results[i])
            let context = "stream \(i) on gateway \(i % 3): \(result.summary)"
            switch result.status {
            case 200:
                let tokens = encoding.count(result.content)
                #expect(result.done && result.http.complete && result.streamError == nil, "not a clean end: \(context)")
                #expect(scenario.text.hasPrefix(result.content), "not the upstream's text: \(context)")
                #expect(result.usagePromptTokens == promptTokens, "\(context)")
                #expect(result.usageCompletionTokens == tokens, "usage chunk vs delivered text: \(context)")
                if result.finishReason == "stop" {
                    full += 1
                    #expect(result.content == scenario.text && !result.cutByBudget, "a full answer: \(context)")
                } else {
                    cut += 1
                    #expect(result.finishReason == "length", "a full answer or a budget cut: \(context)")
                    #expect(tokens < answerTokens, "\(context)")
                }
                guard let id = result.requestID, let record = records[id] else {
                    Issue.record("no usage record for a served request: \(context)")
                    continue
                }
                #expect(record.completionTokens == Int64(tokens), "recorded vs delivered tokens: \(context)")
                #expect(record.promptTokens == Int64(promptTokens), "\(context)")
                #expect(record.cost == Int64(promptTokens) * inputRate + record.completionTokens * outputRate, "\(context)")
                // A cut by the gateway says so; a stream admitted when less than a whole answer was left had that
                // sent upstream as its max_tokens, and the upstream ended it with "length" itself.
                let status = result.finishReason == "stop" ? "completed" : (result.cutByBudget ? "cut_by_budget" : "completed")
                #expect(record.status == status, "\(context): record \(record)")
            case 429:
                refused += 1
                #expect(result.http.errorCode == "insufficient_quota" && result.http.errorType == "insufficient_quota", "\(context)")
                if let id = result.requestID { #expect(records[id] == nil, "a refused request has a record: \(context)") }
            default:
                Issue.record("neither an answer nor a 429: \(context)")
            }
        }
        #expect(full + cut + refused == streamCount)
        // The budget pays for 10.5 answers. Streams that start together share what is free (HoldPolicy), so typically
        // every one is admitted with a small slice and most or all end cut; that is fine, spending past it is not.
        #expect(full <= 10, "full answers: \(full)")
        #expect(records.count == served.count, "one record per served request: \(records.count) records, \(served.count) served")
        #expect(Set(served.compactMap(\.requestID)) == Set(records.keys))
        let spent = records.values.reduce(Int64(0)) { $0 + $1.cost }
        #expect(spent <= budget, "spent \(spent) of \(budget) pico-USD")
        #expect(spent * 10 >= budget * 9, "spent \(spent) of \(budget) pico-USD: less than 90%")
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM reservations") == 0, "reservations left open")
        #expect(try await PSQL.rows(db, "SELECT live, held_pusd, held_tokens FROM user_holds") == [["0", "0", "0"]])
        #expect(try await admin.auditBooks(expectNoReservations: true) == [])
        print("SharedLedgerServeTests.threeGateways: \(full) full, \(cut) cut, \(refused) refused in \(streamed); "
            + "spent \(spent) of \(budget) pico-USD (\(spent * 100 / budget)%)")

        for gateway in gateways {
            await Self.stop(gateway)
        }
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM instances") == 0, "a stopped gateway removes its instance row")
        try await admin.close()
        try await upstream.shutdown()
    }

    // MARK: - 2. kill -9 of one gateway

    /// Models of the kill test and what the upstream does for each.
    static let stallAfter = ["gpt-4o-mini": 30, "gpt-4.1-mini": 7]
    static let flowingModel = "gpt-4o"
    static let survivorModel = "gpt-4.1"
    static let shortModel = "gpt-4.1-nano"
    static func victimPrompt(_ i: Int) -> String { "\(prompt) \(i)" }

    @Test("kill -9 of one of three gateways with 30 live streams: without a restart the survivors settle each of its streams as one interrupted record from its last checkpoint within 60 s, keep serving meanwhile, and a new gateway settles nothing twice",
          .enabled(if: PostgresTestCluster.requirement.shouldRun))
    func killNineOneGateway() async throws {
        try PostgresTestCluster.requirement.check()
        try await ProcessResourceGate.shared.exclusive { try await runKillNine() }
    }

    private func runKillNine() async throws {
        let db = try PostgresTestCluster.freshDatabase("kill-nine")
        defer { PostgresTestCluster.dropDatabase(url: db) }
        let janitor = ProcessJanitor()
        defer { janitor.killAll() }
        let encoding = try Encoding.named(.o200k_base)
        let upstream = try await SimulatedUpstream.start(defaultScenario: UpstreamScenario(chunks: ["still ", "serving"]))
        for (model, count) in Self.stallAfter {
            upstream.setScenario(.counting(200, interval: .milliseconds(2), fault: .stall(afterChunks: count)), forModel: model)
        }
        upstream.setScenario(UpstreamScenario(chunks: (0..<100_000).map { "f\($0) " }, interval: .milliseconds(15)),
                             forModel: Self.flowingModel)
        let survivorAnswer = UpstreamScenario(chunks: (0..<300).map { "g\($0) " }, interval: .milliseconds(25))
        upstream.setScenario(survivorAnswer, forModel: Self.survivorModel)

        let admin = try await Self.administration(db)
        var issued: [String] = []
        for i in 0..<3 {
            let user = try await admin.addUser(name: "killed\(i)", budget: Budget(monthlyLimit: Money(picoUSD: 5_000_000_000_000)))
            issued.append(try await admin.createAPIKey(userID: user.id).key)
        }
        let keys = issued
        let runner = try CLIRunner()
        // Holds of 16 tokens: the streams extend their holds across the gateways' shared database while they run.
        let config = try Self.writeConfig(in: runner.directory, upstream: upstream, extra: "holds: {max_slice_tokens: 16}")
        // Heartbeat and expiry from the environment (the other tests set them in the file).
        let environment = ["TOKENMETER_LEDGER_HEARTBEAT_SECONDS": "1", "TOKENMETER_LEDGER_INSTANCE_EXPIRY_SECONDS": "4"]
        let gateways = try await Self.startGateways(3, config: config, db: db, runner: runner, janitor: janitor,
                                                    environment: environment)
        let victim = gateways[0], survivors = Array(gateways[1...])
        let victimInstance = try await PSQL.int(db, "SELECT id FROM instances WHERE name LIKE '%:\(victim.pid)'")

        // 30 streams on the victim: 12 stall after 30 chunks, 8 after 7 (their last checkpoint is known exactly),
        // 10 flow until it dies. 6 long streams on the survivors, which must end normally.
        let victimModels = (0..<30).map { $0 < 12 ? "gpt-4o-mini" : $0 < 20 ? "gpt-4.1-mini" : Self.flowingModel }
        // Each with a prompt of its own, to find its request among the upstream's records.
        let victimStreams = victimModels.enumerated().map { i, model in
            Task { await RawHTTP.chat(port: victim.port, key: keys[i % 3], model: model, prompt: Self.victimPrompt(i), maxTokens: 2000) }
        }
        let survivorStreams = (0..<6).map { i in
            Task {
                await RawHTTP.chat(port: survivors[i % 2].port, key: keys[i % 3], model: Self.survivorModel,
                                   prompt: Self.prompt, maxTokens: 2000)
            }
        }
        let expectedStalled = Self.stallAfter.mapValues {
            Int64(encoding.count(UpstreamScenario.counting(200).chunks.prefix($0).joined()))
        }
        let victimReservations = "SELECT request_id, model, \(Self.usageColumns) FROM reservations WHERE instance_id = \(victimInstance) ORDER BY request_id"
        let ready = try await pollUntil(timeout: .seconds(30)) {
            let rows = try await PSQL.rows(db, victimReservations)
            let stalledDone = rows.filter { row in expectedStalled[row[1]].map { String($0) == row[3] } ?? false }.count
            let flowing = rows.filter { $0[1] == Self.flowingModel && (Int64($0[3]) ?? 0) > 0 }.count
            let survivorsFlowing = try await PSQL.int(db, """
                SELECT COUNT(*) FROM reservations WHERE model = '\(Self.survivorModel)' AND completion_tokens > 0
                """)
            return stalledDone == 20 && flowing == 10 && survivorsFlowing == 6
        }
        if !ready {
            let state = try await PSQL.rows(db, "SELECT model, instance_id, completion_tokens FROM reservations ORDER BY 1, 2, 3")
            Issue.record("the streams did not all reach a checkpoint before the kill: \(state)")
            return
        }

        await offPool { victim.kill9() }
        let killed = ContinuousClock.now
        // The victim's reservations as it left them (a checkpoint it sent just before dying may still commit, so the
        // flowing ones are compared as "at least" below).
        let leftOpen = Dictionary(uniqueKeysWithValues: try await PSQL.rows(db, victimReservations).map { ($0[0], $0) })
        #expect(leftOpen.count == 30)
        // Its last heartbeat, by the database's clock (which the expiry uses too).
        let lastHeartbeat = try await PSQL.int(db, "SELECT heartbeat_at FROM instances WHERE id = \(victimInstance)")

        // Until the survivors have settled every stream of the victim: short requests to the survivors in turn.
        var shortResults: [(gateway: String, result: RawChatResult)] = []
        var settledAt: Duration?
        var prematurelySettled: [[String]] = []
        while killed.duration(to: .now) < .seconds(60) {
            let gateway = survivors[shortResults.count % 2]
            shortResults.append((gateway.name, await RawHTTP.chat(port: gateway.port, key: keys[shortResults.count % 3],
                                                                    model: Self.shortModel, prompt: Self.prompt, maxTokens: 50,
                                                                    timeoutSeconds: 10)))
            // The heartbeat's age and what is still open, in one statement.
            let state = try await PSQL.rows(db, """
                SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint - \(lastHeartbeat),
                       (SELECT COUNT(*) FROM reservations WHERE instance_id = \(victimInstance)),
                       (SELECT COUNT(*) FROM usage_records WHERE status = 'interrupted')
                """).first ?? []
            let (age, open, interrupted) = (Int64(state.first ?? "") ?? -1, Int64(state.dropFirst().first ?? "") ?? -1,
                                            Int64(state.last ?? "") ?? -1)
            // Expiry 4 s: while the heartbeat is younger, the instance may be alive and nothing of it is settled.
            if age < 4_000 && (open != 30 || interrupted != 0) { prematurelySettled.append(state) }
            if interrupted >= 30 && open == 0 {
                settledAt = killed.duration(to: .now)
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let survivorLogs = survivors.map(\.log)
        let settleTime = try #require(settledAt, "the victim's streams were not settled within 60 s of the kill; survivor logs: \(survivorLogs)")
        #expect(prematurelySettled.isEmpty, "settled before its heartbeat was 4 s old (age ms, open, interrupted): \(prematurelySettled)")
        for (gateway, result) in shortResults {
            #expect(result.status == 200 && result.content == "still serving" && result.finishReason == "stop" && result.done,
                    "a survivor did not serve while the victim's streams were pending: \(gateway): \(result.summary)")
        }
        #expect(shortResults.count >= 4, "only \(shortResults.count) requests to the survivors")

        // Exactly one interrupted record per stream of the victim, with its last checkpoint's usage.
        let interrupted = try await PSQL.rows(db, """
            SELECT request_id, model, \(Self.usageColumns) FROM usage_records WHERE status = 'interrupted' ORDER BY request_id
            """)
        #expect(interrupted.count == 30)
        #expect(Set(interrupted.map { $0[0] }) == Set(leftOpen.keys), "the interrupted records are the victim's streams")
        let victimResults = await withTaskGroup(of: (Int, RawChatResult).self) { group in
            for (i, stream) in victimStreams.enumerated() { group.addTask { (i, await stream.value) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let received = Dictionary(victimResults.compactMap { i, r in r.requestID.map { ($0, (index: i, result: r)) } },
                                  uniquingKeysWith: { a, _ in a })
        #expect(received.count == 30, "every stream on the victim was admitted: \(victimResults.map(\.1.summary))")
        let flowingChunks = (0..<20_000).map { "f\($0) " }
        var overBilled: [Int64] = []
        let flowingRate: Int64 = 10_000_000, flowingInput: Int64 = 2_500_000  // gpt-4o per token
        for record in interrupted {
            let (id, model) = (record[0], record[1])
            guard let open = leftOpen[id] else { continue }
            let client = received[id]?.result
            #expect(client?.http.complete == false && client?.done == false, "\(id) (\(model)) should have been cut off by the kill")
            let clientTokens = Int64(encoding.count(client?.content ?? ""))
            if let stall = expectedStalled[model] {
                #expect(Array(record[2...]) == Array(open[2...]), "\(id) (\(model)): record \(record) vs last checkpoint \(open)")
                #expect(record[3] == String(stall), "\(id) (\(model)): completion tokens")
                #expect(clientTokens == stall, "\(id) (\(model)): the client got what the checkpoint holds")
            } else {
                let completion = Int64(record[3]) ?? -1, prompt = Int64(record[2]) ?? -1
                #expect(completion >= (Int64(open[3]) ?? .max), "\(id): record \(record) older than the checkpoint seen at the kill \(open)")
                // Never more than the upstream sent for it. (Compared with what its client received, the checkpoint
                // may be a delta ahead: the gateway counts a delta once Hummingbird's writer has taken it, and kill -9
                // can drop what the writer had not yet flushed to the socket.)
                let quoted = received[id].map { "\"\(Self.victimPrompt($0.index))\"" } ?? "?"
                let sent = upstream.records.filter { String(decoding: $0.body, as: UTF8.self).contains(quoted) }
                #expect(sent.count == 1, "\(id): upstream requests with its prompt \(quoted): \(sent.count)")
                let upstreamTokens = Int64(encoding.count(flowingChunks.prefix(sent.first?.chunksWritten ?? 0).joined()))
                #expect(completion > 0 && completion <= upstreamTokens, "\(id): recorded \(completion), upstream sent \(upstreamTokens)")
                if completion > clientTokens { overBilled.append(completion - clientTokens) }
                #expect(Int64(record[10]) == prompt * flowingInput + completion * flowingRate, "\(id): cost of \(record)")
            }
        }
        // Settled by the survivors (the victim is dead): their logs account for all 30.
        let settledBySurvivors = survivors.map { Self.expiredRecords(in: $0.log) }.reduce(0, +)
        #expect(settledBySurvivors == 30, "survivors' logs report \(settledBySurvivors) settled: \(survivors.map(\.log))")
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM instances WHERE id = \(victimInstance)") == 0)

        // The survivors' own streams ran through it all.
        for (i, stream) in survivorStreams.enumerated() {
            let result = await stream.value
            #expect(result.status == 200 && result.content == survivorAnswer.text && result.finishReason == "stop" && result.done,
                    "survivor stream \(i): \(result.summary)")
        }
        let settledAll = try await pollUntil(timeout: .seconds(10)) {
            try await PSQL.int(db, "SELECT COUNT(*) FROM reservations") == 0
        }
        #expect(settledAll, "reservations still open after the survivors' streams ended")
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records WHERE model = '\(Self.survivorModel)' AND status = 'completed'") == 6)

        // A new gateway (the victim restarted) finds nothing to settle and settles nothing twice.
        let before = try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records")
        let restarted = try await offPool {
            try LedgerGateway("restarted", config: config, database: db, directory: runner.directory,
                              environment: environment, janitor: janitor)
        }
        let again = await RawHTTP.chat(port: restarted.port, key: keys[0], model: Self.shortModel, prompt: Self.prompt, maxTokens: 50)
        #expect(again.status == 200 && again.content == "still serving", "the new gateway serves: \(again.summary)")
        let settledAgain = try await pollUntil(timeout: .seconds(10)) {
            try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records") == before + 1
        }
        let after = try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records")
        #expect(settledAgain, "record count after the restart and one request: \(after), before \(before)")
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records WHERE status = 'interrupted'") == 30)
        #expect(try await PSQL.int(db, "SELECT COUNT(*) - COUNT(DISTINCT request_id) FROM usage_records") == 0)
        #expect(!restarted.log.contains("settled interrupted requests") && Self.expiredRecords(in: restarted.log) == 0,
                "the new gateway settled something: \(restarted.log)")
        #expect(try await admin.auditBooks(expectNoReservations: true) == [])
        print("SharedLedgerServeTests.killNine: victim's 30 streams settled \(settleTime) after the kill; "
            + "\(shortResults.count) requests served by the survivors meanwhile; flowing streams recorded beyond what "
            + "their clients got: \(overBilled) tokens")

        // A gateway stopped gracefully (SIGTERM) settles only its own streams: the new gateway's streams run on
        // while both survivors stop, and complete.
        let lastAnswer = UpstreamScenario(chunks: (0..<80).map { "h\($0) " }, interval: .milliseconds(25))
        upstream.setScenario(lastAnswer, forModel: Self.survivorModel)
        let lastStreams = (0..<2).map { i in
            Task {
                await RawHTTP.chat(port: restarted.port, key: keys[i], model: Self.survivorModel, prompt: Self.prompt, maxTokens: 2000)
            }
        }
        let lastStarted = try await pollUntil(timeout: .seconds(10)) {
            try await PSQL.int(db, "SELECT COUNT(*) FROM reservations WHERE completion_tokens > 0") == 2
        }
        #expect(lastStarted, "the new gateway's streams did not start")
        for gateway in survivors {
            await Self.stop(gateway)
        }
        for stream in lastStreams {
            let result = await stream.value
            #expect(result.status == 200 && result.content == lastAnswer.text && result.finishReason == "stop" && result.done,
                    "a stream on the new gateway while the others stopped: \(result.summary)")
            if let id = result.requestID {
                let ended = try await pollUntil(timeout: .seconds(10)) {
                    try await PSQL.rows(db, "SELECT status FROM usage_records WHERE request_id = '\(id)'") == [["completed"]]
                }
                let statuses = try await PSQL.rows(db, "SELECT status FROM usage_records WHERE request_id = '\(id)'")
                #expect(ended, "\(id): records \(statuses), expected one completed")
            }
        }
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records WHERE status = 'interrupted'") == 30)
        await Self.stop(restarted)
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM instances") == 0, "a stopped gateway removes its instance row")
        #expect(try await admin.auditBooks(expectNoReservations: true) == [])
        try await admin.close()
        try await upstream.shutdown()
    }

    /// The records a gateway's log says it settled for expired instances (PostgresUsageStore's notice).
    static func expiredRecords(in log: String) -> Int {
        log.split(separator: "\n").filter { $0.contains("settled the reservations of an expired gateway instance") }
            .compactMap { line -> Int? in
                guard let range = line.range(of: "records=") else { return nil }
                return Int(line[range.upperBound...].prefix { $0.isNumber })
            }
            .reduce(0, +)
    }

    // MARK: - 3. Revocation

    @Test("a key revoked with the CLI is refused (401) by every running gateway within 5 s; another user's key keeps working",
          .enabled(if: PostgresTestCluster.requirement.shouldRun))
    func revocationReachesEveryGateway() async throws {
        try PostgresTestCluster.requirement.check()
        try await ProcessResourceGate.shared.exclusive { try await runRevocation() }
    }

    private func runRevocation() async throws {
        let db = try PostgresTestCluster.freshDatabase("revocation")
        defer { PostgresTestCluster.dropDatabase(url: db) }
        let janitor = ProcessJanitor()
        defer { janitor.killAll() }
        let upstream = try await SimulatedUpstream.start(defaultScenario: UpstreamScenario(chunks: ["fine"]))
        let runner = try CLIRunner()
        let added = try await offPool { try runner.run(["users", "add", "rita", "--monthly-usd", "5", "--db", db]) }
        #expect(added.status == 0, "\(added.stderr)")
        let issued = try await offPool { try runner.run(["keys", "create", "rita", "--db", db]) }
        #expect(issued.status == 0, "\(issued.stderr)")
        let key = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = key.split(separator: "_")
        try #require(parts.count >= 3 && parts[0] == "tm", "unexpected key format: \(key)")
        let admin = try await Self.administration(db)
        let sam = try await admin.addUser(name: "sam", budget: .unlimited)
        let control = try await admin.createAPIKey(userID: sam.id).key

        let config = try Self.writeConfig(in: runner.directory, upstream: upstream, extra: """
            shared_ledger: {heartbeat_seconds: 1, instance_expiry_seconds: 10}
            """)
        let gateways = try await Self.startGateways(2, config: config, db: db, runner: runner, janitor: janitor)
        // Both gateways have the key authenticated (and cached) before it is revoked.
        for gateway in gateways {
            let chat = await RawHTTP.chat(port: gateway.port, key: key, model: "gpt-4o-mini", prompt: Self.prompt, maxTokens: 10)
            #expect(chat.status == 200 && chat.content == "fine", "\(gateway.name) before the revocation: \(chat.summary)")
            let usage = await RawHTTP.get(port: gateway.port, path: "/v1/usage", key: key)
            #expect(usage.status == 200, "\(gateway.name) before the revocation: \(usage.bodyText)")
        }

        let revoked = try await offPool { try runner.run(["keys", "revoke", String(parts[1]), "--db", db]) }
        #expect(revoked.status == 0 && revoked.stdout.contains("revoked"), "\(revoked.stdout) \(revoked.stderr)")
        let revokedAt = ContinuousClock.now
        var refusedAfter: [String: Duration] = [:]
        try await withThrowingTaskGroup(of: (String, Duration?).self) { group in
            for gateway in gateways {
                group.addTask {
                    let refused = try await pollUntil(timeout: .seconds(5), every: .milliseconds(100)) {
                        await RawHTTP.get(port: gateway.port, path: "/v1/usage", key: key).status == 401
                    }
                    return (gateway.name, refused ? revokedAt.duration(to: .now) : nil)
                }
            }
            for try await (name, after) in group {
                #expect(after != nil, "\(name) still accepts the revoked key 5 s after the revocation")
                refusedAfter[name] = after
            }
        }
        for gateway in gateways {
            let chat = await RawHTTP.chat(port: gateway.port, key: key, model: "gpt-4o-mini", prompt: Self.prompt, maxTokens: 10)
            #expect(chat.status == 401 && chat.http.errorCode == "invalid_api_key"
                    && chat.http.errorMessage?.contains("revoked") == true, "\(gateway.name): \(chat.summary)")
            let other = await RawHTTP.chat(port: gateway.port, key: control, model: "gpt-4o-mini", prompt: Self.prompt, maxTokens: 10)
            #expect(other.status == 200 && other.content == "fine", "\(gateway.name), another user's key: \(other.summary)")
        }
        let settled = try await pollUntil(timeout: .seconds(10)) {
            try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records") == 4
        }
        #expect(settled, "records: the two requests before the revocation and the two of the other key, nothing else")
        print("SharedLedgerServeTests.revocation: refused after \(refusedAfter)")

        for gateway in gateways {
            await Self.stop(gateway)
        }
        try await admin.close()
        try await upstream.shutdown()
    }

    // MARK: - 4. Database restart mid-stream

    /// How the database goes away under the streams.
    enum Outage: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// A fast shutdown, a new request while it is down (503 expected), then a start on the same port.
        case stopProbeStart
        /// An immediate shutdown (as a crash: no checkpoint, clients cut off) and a start at once.
        case crashRestart

        var testDescription: String { rawValue }
    }

    @Test("the database goes away under 8 running streams: the streams end within their holds and are settled once it is back, one record each; while it is down a new request gets 503 ledger_unavailable within the connection wait; then new requests are served",
          .enabled(if: PrivatePostgresCluster.requirement.shouldRun), arguments: Outage.allCases)
    func databaseRestartMidStream(outage: Outage) async throws {
        try PrivatePostgresCluster.requirement.check()
        try await ProcessResourceGate.shared.exclusive { try await runDatabaseRestart(outage) }
    }

    private func runDatabaseRestart(_ mode: Outage) async throws {
        let cluster = try await offPool { try PrivatePostgresCluster() }
        defer { cluster.shutDown() }
        let janitor = ProcessJanitor()
        defer { janitor.killAll() }
        let db = cluster.url
        let encoding = try Encoding.named(.o200k_base)
        let answerTokens = 200
        let answer = UpstreamScenario(chunks: (0..<answerTokens).map { Self.words[$0 % Self.words.count] }, interval: .milliseconds(15))
        try #require(encoding.count(answer.text) == answerTokens)
        let upstream = try await SimulatedUpstream.start(defaultScenario: UpstreamScenario(chunks: ["back ", "again"]))
        upstream.setScenario(answer, forModel: "gpt-4o")

        // "ample" can pay for 100,000 output tokens: each stream holds its whole answer from the start. "tight" can pay
        // for about 1,600: its 4 streams hold slices of about 100 tokens and must extend them halfway through.
        let promptTokens = 3 + encoding.count("user") + encoding.count(Self.prompt) + 3
        let admin = try await Self.administration(db)
        let ample = try await admin.addUser(name: "ample", budget: Budget(monthlyLimit: Money(picoUSD: 1_000_000_000_000)))
        let tight = try await admin.addUser(name: "tight", budget: Budget(monthlyLimit: Money(
            picoUSD: 4 * Int64(promptTokens) * 2_500_000 + 1_600 * 10_000_000)))
        let ampleKey = try await admin.createAPIKey(userID: ample.id).key
        let tightKey = try await admin.createAPIKey(userID: tight.id).key
        try await admin.close()

        let runner = try CLIRunner()
        let config = try Self.writeConfig(in: runner.directory, upstream: upstream, extra: """
            ledger_busy_timeout_ms: 1000
            shared_ledger: {heartbeat_seconds: 1, instance_expiry_seconds: 10}
            """)
        let gateway = try await offPool {
            try LedgerGateway("gateway", config: config, database: db, directory: runner.directory, janitor: janitor)
        }
        let streams = (0..<8).map { i in
            Task {
                await RawHTTP.chat(port: gateway.port, key: i < 4 ? ampleKey : tightKey, model: "gpt-4o", prompt: Self.prompt,
                                   maxTokens: answerTokens)
            }
        }
        let streaming = try await pollUntil(timeout: .seconds(20)) {
            try await PSQL.int(db, "SELECT COUNT(*) FROM reservations WHERE completion_tokens >= 5") == 8
        }
        try #require(streaming, "the 8 streams did not start: \(gateway.log)")
        // Tokens each stream had when the database went away, by request id.
        let atStop = Dictionary(uniqueKeysWithValues: try await PSQL.rows(db, "SELECT request_id, completion_tokens FROM reservations")
            .map { ($0[0], Int64($0[1]) ?? 0) })

        let stopped = ContinuousClock.now
        var probe: RawChatResult?
        switch mode {
        case .stopProbeStart:
            try await offPool { try cluster.stop() }
            probe = await RawHTTP.chat(port: gateway.port, key: ampleKey, model: "gpt-4o", prompt: Self.prompt, maxTokens: 10,
                                       timeoutSeconds: 20)
            // Down for 2.5 s in all (the outage's length is the scenario, not a wait for something): long enough for
            // the tight streams to reach the ends of their first slices, at about 1.5 s, with the database away.
            try await Task.sleep(until: stopped + .milliseconds(2500))
            try await offPool { try cluster.start() }
        case .crashRestart:
            try await offPool { try cluster.restart() }
        }
        let outage = stopped.duration(to: .now)
        if let probe {
            #expect(probe.status == 503 && probe.http.errorCode == "ledger_unavailable",
                    "a new request while the database is down: \(probe.summary)")
            // The reservation (or the authentication) waits ledger_busy_timeout_ms (1 s) for a connection, once: the
            // refusal must not wait a second time (it did, for the budget headers, before the 503 skipped them).
            #expect(probe.http.elapsed < .milliseconds(1900), "the 503 took \(probe.http.elapsed)")
        }

        let results = await withTaskGroup(of: (Int, RawChatResult).self) { group in
            for (i, stream) in streams.enumerated() { group.addTask { (i, await stream.value) } }
            return await group.reduce(into: [Int: RawChatResult]()) { $0[$1.0] = $1.1 }
        }
        let settled = try await pollUntil(timeout: .seconds(20)) {
            let recorded = try await PSQL.int(db, "SELECT COUNT(*) FROM usage_records")
            let open = try await PSQL.int(db, "SELECT COUNT(*) FROM reservations")
            return recorded >= 8 && open == 0
        }
        #expect(settled, "the streams were not settled within 20 s of the database's return: \(gateway.log)")
        let records = try await Self.records(db)
        #expect(records.count == 8, "one record per stream: \(records.count)")
        if let id = probe?.requestID { #expect(records[id] == nil, "the refused request has a record") }
        var cutAtHold: [Int64] = []
        for i in 0..<8 {
            let result = try #require(results[i])
            let context = "\(i < 4 ? "ample" : "tight") stream \(i): \(result.summary)"
            #expect(result.status == 200 && result.done && result.http.complete && result.streamError == nil,
                    "not a clean end: \(context)")
            #expect(answer.text.hasPrefix(result.content), "\(context)")
            let tokens = Int64(encoding.count(result.content))
            guard let id = result.requestID, let record = records[id] else {
                Issue.record("no record: \(context)")
                continue
            }
            #expect(record.completionTokens == tokens, "recorded vs delivered: \(context); record \(record)")
            if i < 4 {
                // Its whole answer was held at admission: the database being away cannot shorten it.
                #expect(result.finishReason == "stop" && tokens == Int64(answerTokens) && record.status == "completed",
                        "an ample stream must complete: \(context); record \(record)")
            } else if result.finishReason == "stop" {
                #expect(tokens == Int64(answerTokens) && record.status == "completed", "\(context); record \(record)")
            } else {
                // Cut at its hold: the extension it needed failed while the database was down.
                cutAtHold.append(tokens)
                #expect(result.finishReason == "length" && result.cutByBudget && record.status == "cut_by_budget",
                        "a tight stream either completes or is cut at its hold: \(context); record \(record)")
                #expect(tokens >= atStop[id] ?? 0 && tokens < Int64(answerTokens), "\(context)")
            }
        }

        // Served again once the database is back (the pool reconnects).
        var attempts: [RawChatResult] = []
        let serving = try await pollUntil(timeout: .seconds(15), every: .milliseconds(200)) {
            attempts.append(await RawHTTP.chat(port: gateway.port, key: tightKey, model: "gpt-4.1-nano", prompt: Self.prompt, maxTokens: 10))
            return attempts.last?.status == 200
        }
        #expect(serving, "not serving 15 s after the database came back: \(attempts.map(\.summary))")
        #expect(attempts.last?.content == "back again")
        let next = await RawHTTP.chat(port: gateway.port, key: ampleKey, model: "gpt-4.1-nano", prompt: Self.prompt, maxTokens: 10)
        #expect(next.status == 200 && next.content == "back again", "\(next.summary)")
        let audit = try await Self.administration(db)
        let booksBalance = try await pollUntil(timeout: .seconds(10)) {
            try await audit.auditBooks(expectNoReservations: true).isEmpty
        }
        let problems = try await audit.auditBooks(expectNoReservations: true)
        #expect(booksBalance, "\(problems)")
        #expect(try await PSQL.int(db, "SELECT COUNT(*) - COUNT(DISTINCT request_id) FROM usage_records") == 0)
        #expect(try await PSQL.int(db, "SELECT COUNT(*) FROM instances") == 1)
        print("SharedLedgerServeTests.databaseRestart(\(mode)): outage \(outage), 503 after \(probe.map { "\($0.http.elapsed)" } ?? "-"); "
            + "tight streams cut at their holds: \(cutAtHold); served again after \(attempts.count) attempt(s)")

        await Self.stop(gateway)
        try await audit.close()
        try await upstream.shutdown()
    }

    // MARK: - Helpers

    /// Stops `gateway` with SIGTERM and expects a clean exit (status 0) within 30 s.
    static func stop(_ gateway: LedgerGateway, sourceLocation: SourceLocation = #_sourceLocation) async {
        let status = await offPool { gateway.terminate() }
        let how = status.map { "exit status \($0)" } ?? "still running 30 s after SIGTERM, killed"
        #expect(status == 0, "\(gateway.name): \(how); log: \(gateway.log)", sourceLocation: sourceLocation)
    }

    /// The shared ledger in the administration role (no instance row, no heartbeat).
    static func administration(_ url: String) async throws -> PostgresUsageStore {
        var configuration = PostgresUsageStore.Configuration()
        configuration.role = .administration
        configuration.maximumConnections = 2
        return try await PostgresUsageStore.open(url: url, configuration: configuration)
    }

    /// A configuration with the simulated upstream and `extra` YAML.
    static func writeConfig(in directory: URL, upstream: SimulatedUpstream, extra: String) throws -> URL {
        let config = directory.appendingPathComponent("serve.yaml")
        try """
            upstreams:
              - name: simulated
                provider: openai
                base_url: \(upstream.openAIBaseURL)
                api_key: sk-shared-upstream
                timeouts: {connect_seconds: 5, first_byte_seconds: 10, idle_seconds: 60}
            \(extra)
            """.write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    /// `count` gateways on `db`, started at once.
    static func startGateways(_ count: Int, config: URL, db: String, runner: CLIRunner, janitor: ProcessJanitor,
                              environment: [String: String] = [:]) async throws -> [LedgerGateway] {
        try await withThrowingTaskGroup(of: (Int, LedgerGateway).self) { group in
            for i in 0..<count {
                group.addTask {
                    (i, try await offPool {
                        try LedgerGateway("gateway\(i)", config: config, database: db, directory: runner.directory,
                                          environment: environment, janitor: janitor)
                    })
                }
            }
            return try await group.reduce(into: [LedgerGateway?](repeating: nil, count: count)) { $0[$1.0] = $1.1 }
                .map { $0! }
        }
    }

    struct Record: Sendable, Equatable, CustomStringConvertible {
        var status: String
        var promptTokens: Int64
        var completionTokens: Int64
        var cost: Int64
        var description: String { "\(status) prompt \(promptTokens) completion \(completionTokens) cost \(cost)" }
    }

    /// Every usage record by request id.
    static func records(_ db: String) async throws -> [String: Record] {
        let rows = try await PSQL.rows(db, "SELECT request_id, status, prompt_tokens, completion_tokens, cost_pusd FROM usage_records")
        var records: [String: Record] = [:]
        for row in rows {
            #expect(records[row[0]] == nil, "two records for \(row[0])")
            records[row[0]] = Record(status: row[1], promptTokens: Int64(row[2]) ?? -1, completionTokens: Int64(row[3]) ?? -1,
                                     cost: Int64(row[4]) ?? -1)
        }
        return records
    }
}
