import Foundation
import Logging
import Synchronization
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterSimulatedUpstream
import TokenMeterJSON

/// The claims of docs/SECURITY.md, one test each.
extension ServerTests {
    @Suite("Security")
    struct SecurityTests {
        static let adminKey = "admin-key-0123456789abcdef"
        static let adminHeader = "Authorization: Bearer \(adminKey)"

        @Test("a user key reads only its own usage: /v1/usage has no way to name another user")
        func usageIsPerKey() async throws {
            let harness = try await GatewayHarness.start()
            let ann = try await harness.addUser("ann")
            let bob = try await harness.addUser("bob")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["only ", "bob"]))
            _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: bob)))
            _ = try await harness.waitForRecords(user: "bob", count: 1)
            for query in ["", "?user=bob", "?user_id=2", "?name=bob&user=bob"] {
                let answer = try curl(harness.baseURL + "/v1/usage" + query, method: "GET", key: ann)
                #expect(answer.status == 200)
                let json = try JSONParser.parse(Data(answer.body.utf8))
                #expect(json["user"]?.stringValue == "ann", "\(query)")
                #expect(json["requests"]?.intValue == 0, "\(query): ann sees bob's usage")
            }
            let bobs = try JSONParser.parse(Data(try curl(harness.baseURL + "/v1/usage", method: "GET", key: bob).body.utf8))
            #expect(bobs["user"]?.stringValue == "bob")
            #expect(bobs["requests"]?.intValue == 1)
            try await harness.stop()
        }

        @Test("a user key on any admin route gets 401 and changes nothing; the admin key is not a user key")
        func userKeysCannotAdminister() async throws {
            let harness = try await GatewayHarness.start()
            let ann = try await harness.addUser("ann")
            let prefix = String(ann.split(separator: "_")[1])
            let routes: [(method: String, path: String, body: String?)] = [
                ("GET", "/admin/users", nil),
                ("POST", "/admin/users", #"{"name":"mallory"}"#),
                ("GET", "/admin/users/ann", nil),
                ("PATCH", "/admin/users/ann/budget", #"{"monthly_usd":null}"#),
                ("POST", "/admin/users/ann/disable", nil),
                ("POST", "/admin/users/ann/enable", nil),
                ("POST", "/admin/users/ann/keys", nil),
                ("GET", "/admin/keys", nil),
                ("GET", "/admin/keys?user=ann", nil),
                ("DELETE", "/admin/keys/\(prefix)", nil),
                ("GET", "/admin/reports/monthly", nil),
            ]
            for route in routes {
                for presented in [ann, "", "admin-key-0123456789abcdeX", Self.adminKey + "x", String(Self.adminKey.dropLast())] {
                    let answer = try curl(harness.baseURL + route.path, method: route.method, key: presented.isEmpty ? nil : presented,
                                          body: route.body.map { Array($0.utf8) })
                    #expect(answer.status == 401, "\(route.method) \(route.path) with '\(presented.prefix(12))…': \(answer.status)")
                    #expect(answer.body.contains(#""code":"invalid_api_key""#))
                }
            }
            // Nothing changed: no new user, ann still active with one key, not revoked.
            let users = try curl(harness.baseURL + "/admin/users", method: "GET", key: nil, headers: [Self.adminHeader])
            #expect(users.status == 200)
            #expect(!users.body.contains("mallory"))
            #expect(users.body.contains(#""status":"active""#))
            let keys = try curl(harness.baseURL + "/admin/keys?user=ann", method: "GET", key: nil, headers: [Self.adminHeader])
            #expect(keys.body.components(separatedBy: #""prefix""#).count == 2, "\(keys.body)")
            #expect(keys.body.contains(#""revoked_at":null"#))
            // The admin key opens no user route.
            for path in ["/v1/usage", "/v1/models"] {
                #expect(try curl(harness.baseURL + path, method: "GET", key: Self.adminKey).status == 401)
            }
            let chatAnswer = try curl(harness.baseURL + "/v1/chat/completions", key: Self.adminKey,
                                      body: Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(chatAnswer.status == 401)
            #expect(harness.upstream.records.isEmpty)
            try await harness.stop()
        }

        @Test("without a configured admin key every admin route is 404, whatever key is sent")
        func adminRoutesOffWithoutAdminKey() async throws {
            let harness = try await GatewayHarness.start { $0.adminKey = nil }
            let ann = try await harness.addUser("ann")
            for key in [ann, Self.adminKey, ""] {
                for path in ["/admin/users", "/admin/keys", "/admin/reports/monthly"] {
                    #expect(try curl(harness.baseURL + path, method: "GET", key: key.isEmpty ? nil : key).status == 404)
                }
            }
            try await harness.stop()
        }

        @Test("logs at trace level never hold a user key, the admin key, the upstream key, prompt or completion text")
        func logsHoldNoSecrets() async throws {
            let lines = LogCapture()
            var logger = Logger(label: "tokenmeter-capture") { label in lines.handler(label: label) }
            logger.logLevel = .trace
            let harness = try await GatewayHarness.start(logger: logger)
            let promptMarker = "PROMPT-7f3a-do-not-log"
            let completionMarker = "COMPLETION-91bd-do-not-log"
            // A key issued over the admin API (its only copy is in that answer).
            _ = try curl(harness.baseURL + "/admin/users", key: nil, body: Array(#"{"name":"kim"}"#.utf8), headers: [Self.adminHeader])
            let issued = try curl(harness.baseURL + "/admin/users/kim/keys", key: nil, headers: [Self.adminHeader])
            let key = try #require(try JSONParser.parse(Data(issued.body.utf8))["key"]?.stringValue)
            let secret = String(key.split(separator: "_")[2])
            // A normal stream, a stream:false answer, a malformed upstream line carrying completion text, an
            // upstream error that echoes the prompt and the upstream key, a wrong key and a budget refusal.
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["a ", completionMarker, " b"]))
            _ = await collect(harness.client.stream(chat("gpt-4o-mini", promptMarker), to: harness.gateway(key: key)))
            _ = try? await harness.client.complete(chat("gpt-4o-mini", promptMarker), to: harness.gateway(key: key))
            harness.upstream.setScenario(UpstreamScenario(chunks: ["x ", completionMarker], fault: .malformedLine(afterChunks: 2)),
                                         forModel: "gpt-4.1-mini")
            _ = await collect(harness.client.stream(chat("gpt-4.1-mini", promptMarker), to: harness.gateway(key: key)))
            harness.upstream.setScenario(UpstreamScenario(fault: .status(400, message: "bad input: \(promptMarker) with key sk-upstream-secret",
                                                                         type: "invalid_request_error")), forModel: "gpt-4.1-nano")
            _ = await collect(harness.client.stream(chat("gpt-4.1-nano", promptMarker), to: harness.gateway(key: key)))
            _ = await collect(harness.client.stream(chat("gpt-4o-mini", promptMarker), to: harness.gateway(key: key + "x")))
            _ = try curl(harness.baseURL + "/v1/usage", method: "GET", key: key)
            _ = try await harness.waitForRecords(user: "kim", count: 4)
            try await harness.stop()
            let log = lines.text
            #expect(log.contains("admitted"), "the capture saw the request log lines")
            #expect(log.contains("settled"))
            for (what, needle) in [("user key secret", secret), ("admin key", Self.adminKey), ("upstream key", "sk-upstream-secret"),
                                   ("prompt text", promptMarker), ("completion text", completionMarker)] {
                #expect(!log.contains(needle), "the log holds the \(what)")
            }
        }

        @Test("a key issued over the admin API is not in the database files (db, WAL, shm); only its prefix and SHA-256 are")
        func databaseHoldsNoKey() async throws {
            let harness = try await GatewayHarness.start()
            _ = try curl(harness.baseURL + "/admin/users", key: nil, body: Array(#"{"name":"lee"}"#.utf8), headers: [Self.adminHeader])
            var keys: [String] = []
            for _ in 0..<3 {
                let issued = try curl(harness.baseURL + "/admin/users/lee/keys", key: nil, headers: [Self.adminHeader])
                keys.append(try #require(try JSONParser.parse(Data(issued.body.utf8))["key"]?.stringValue))
            }
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["ok"]))
            for key in keys { _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key))) }
            _ = try await harness.waitForRecords(user: "lee", count: 3)
            func files() -> Data {
                ["", "-wal", "-shm"].reduce(into: Data()) { $0 += (FileManager.default.contents(atPath: harness.databasePath + $1) ?? Data()) }
            }
            let whileRunning = files()
            try await harness.stop()
            let afterStop = files()
            for bytes in [whileRunning, afterStop] {
                #expect(bytes.count > 0)
                for key in keys {
                    let secret = String(key.split(separator: "_")[2])
                    let prefix = String(key.split(separator: "_")[1])
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "the secret is stored")
                    #expect(bytes.range(of: Data(secret.uppercased().utf8)) == nil)
                    #expect(bytes.range(of: Data(prefix.utf8)) != nil, "the prefix should be stored (the search works)")
                }
            }
        }

        @Test("a body over the limit is 413 also without Content-Length (chunked), before any ledger or upstream work")
        func chunkedBodyOverLimit() async throws {
            let harness = try await GatewayHarness.start { $0.bodyLimitBytes = 2048 }
            let key = try await harness.addUser("max")
            let big = Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":""#.utf8)
                + Array(repeating: UInt8(ascii: "a"), count: 50_000) + Array(#""}]}"#.utf8)
            let answer = try curl(harness.baseURL + "/v1/chat/completions", key: key, body: big, headers: ["Transfer-Encoding: chunked"])
            #expect(answer.status == 413)
            #expect(answer.body.contains(#""code":"request_too_large""#))
            #expect(harness.upstream.records.isEmpty)
            #expect(try harness.records(user: "max").isEmpty)
            #expect(try harness.openReservations() == 0)
            try await harness.stop()
        }

        @Test("per-key concurrency cap: the request over it gets 429 rate_limit_exceeded, reserves nothing, and slots come back however requests end")
        func concurrencyCapPerKey() async throws {
            let harness = try await GatewayHarness.start { $0.maxConcurrentRequestsPerKey = 2 }
            let key = try await harness.addUser("ned")
            let other = try await harness.addUser("ola")
            let slow = UpstreamScenario.counting(30, interval: .milliseconds(20))
            harness.upstream.setDefaultScenario(slow)
            let client = harness.client, gateway = harness.gateway(key: key)
            let running = (0..<2).map { _ in Task { await collect(client.stream(chat(), to: gateway)) } }
            #expect(await harness.upstream.waitUntil(timeout: .seconds(3)) { $0.count == 2 })
            let refused = await collect(harness.client.stream(chat(), to: gateway))
            guard case .httpStatus(429, let body?, _)? = refused.error else {
                Issue.record("expected 429, got \(String(describing: refused.error))"); try await harness.stop(); return
            }
            #expect(body.code == "rate_limit_exceeded")
            #expect(body.type == "requests")
            #expect(try harness.openReservations() == 2, "the refused request reserved nothing")
            #expect(harness.upstream.records.count == 2)
            // Another key is not affected.
            #expect(await collect(harness.client.stream(chat(), to: harness.gateway(key: other))).error == nil)
            for task in running { #expect(await task.value.error == nil) }
            // Slots come back after completed, failed, refused-by-budget and abandoned requests.
            harness.upstream.setDefaultScenario(UpstreamScenario(fault: .status(500, message: "down")))
            for _ in 0..<3 { _ = await collect(harness.client.stream(chat(), to: gateway)) }
            harness.upstream.setDefaultScenario(slow)
            for _ in 0..<3 {
                let stream = harness.client.stream(chat(), to: gateway)
                var it = stream.makeAsyncIterator()
                _ = try await it.next()
                stream.cancel()
            }
            _ = await collect(harness.client.stream(chat(), to: harness.gateway(key: key + "wrong")))
            _ = try await harness.waitUntilNoReservation()
            try await Task.sleep(for: .milliseconds(200))  // a slot is given back just after its settle, as the response ends
            let again = (0..<2).map { _ in Task { await collect(client.stream(chat(), to: gateway)) } }
            for task in again { #expect(await task.value.error == nil) }
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("SQL is never built from values: every interpolation in a string literal holding SQL in Sources/ is on a short allowlist of constants")
        func noSQLInterpolation() throws {
            let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Sources")
            // Interpolations that insert code-defined column lists, bound-parameter markers, a record type's
            // table name, enum raw values, or a clause with a bound parameter; never request or user data.
            let allowed: Set<String> = [
                "assignments", "columns", "placeholders", "databaseTableName", "usageColumns",
                "configuration.durability.rawValue",
                // An integer from the ledger's configuration (PRAGMA busy_timeout takes no bound parameter).
                "busyTimeoutMilliseconds",
                "UsageStatus.interrupted.rawValue", #"forOneUser ? " AND user_id = :user" : """#,
                // PostgreSQL: migration and query fragments defined in PostgresMigrations, MonthlyReportBuilder and the
                // audit, and a WHERE clause written in code with a bound parameter ($1).
                "usageParameters", "usageArguments", "usageColumnList", "nowMilliseconds", "recordColumnDefinitions",
                "recordColumnsOfU", "PostgresMigrations.recordColumnsOfU", "PostgresMigrations.nowMilliseconds",
                "MonthlyReportBuilder.columns", "Self.dailyFromRecords", "clause",
            ]
            var found: [String] = []
            var sqlStrings = 0
            let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
            while let file = enumerator?.nextObject() as? URL {
                guard file.pathExtension == "swift", let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
                // Test support (a test cluster's database names, drawn from [a-z0-9_]) never runs in the product.
                if file.path.contains("/TokenMeterTestSupport/") { continue }
                for (literal, binds) in try Self.stringLiterals(in: text) where try Self.looksLikeSQL(literal) {
                    sqlStrings += 1
                    for interpolation in Self.interpolations(in: literal[...]) {
                        // In a PostgresQuery `\(value)` is a bound parameter; only `\(unescaped: …)` is spliced in.
                        var spliced = interpolation
                        if binds {
                            guard interpolation.hasPrefix("unescaped:") else { continue }
                            spliced = interpolation.dropFirst("unescaped:".count).trimmingCharacters(in: .whitespaces)
                        }
                        if !allowed.contains(spliced) { found.append("\(file.lastPathComponent): \\(\(interpolation))") }
                    }
                }
            }
            #expect(sqlStrings >= 12, "the scan found the ledger's SQL (\(sqlStrings) strings)")
            #expect(found.isEmpty, "SQL built with interpolation: \(found)")
        }

        static func looksLikeSQL(_ literal: String) throws -> Bool {
            try Regex(#"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|WHERE|JOIN)\b"#).firstMatch(in: literal) != nil
        }

        /// The string literals of a Swift source, multi-line ones first, then single-line ones (with escapes), each with
        /// whether it is written straight into a `query(` call: there it is a PostgresNIO `PostgresQuery`, which sends
        /// its interpolations as bound parameters.
        static func stringLiterals(in text: String) throws -> [(text: String, binds: Bool)] {
            func bindsValues(_ before: Substring) -> Bool {
                before.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("query(")
            }
            let multiLine = try Regex(#"(?s)\"\"\"(.*?)\"\"\""#)
            var literals = text.matches(of: multiLine).map {
                (String(text[$0.range].dropFirst(3).dropLast(3)), bindsValues(text[..<$0.range.lowerBound].suffix(40)))
            }
            let rest = text.replacing(multiLine, with: "")
            literals += rest.matches(of: try Regex(#""((?:[^"\\\n]|\\.)*)""#)).map {
                (String(rest[$0.range].dropFirst().dropLast()), bindsValues(rest[..<$0.range.lowerBound].suffix(40)))
            }
            return literals
        }

        /// The expressions of `\(…)` interpolations in `literal`.
        static func interpolations(in literal: Substring) -> [String] {
            var found: [String] = []
            var rest = literal
            while let start = rest.range(of: "\\(") {
                var depth = 1
                var index = start.upperBound
                while index < rest.endIndex, depth > 0 {
                    if rest[index] == "(" { depth += 1 } else if rest[index] == ")" { depth -= 1 }
                    if depth > 0 { index = rest.index(after: index) }
                }
                found.append(String(rest[start.upperBound..<index]))
                rest = index < rest.endIndex ? rest[rest.index(after: index)...] : ""
            }
            return found
        }
    }
}

/// Collects every log line (message and metadata) of the loggers it makes.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func handler(label: String) -> any LogHandler { Handler(capture: self) }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            let all = metadata.merging(explicit ?? [:]) { $1 }
            capture.append("\(level) \(message) \(all.map { "\($0)=\($1)" }.joined(separator: " "))")
        }
    }
}
