import Foundation
import Testing
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream

/// `x-request-id` and the remaining-budget headers (docs/SERVER.md, "Answer headers").
extension ServerTests {
    @Suite("Answer headers")
    struct ResponseHeaderTests {
        static func isRequestID(_ id: String) -> Bool { id.wholeMatch(of: #/chatcmpl-tm[0-9a-f]{32}/#) != nil }

        @Test("every answer carries x-request-id; a chat answer's is its ledger record's request id")
        func requestIDEverywhere() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("ida")
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["one ", "two"]))
            let body = Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
            let streamBody = Array(#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
            let answered = try curlWithHeaders(harness.baseURL + "/v1/chat/completions", key: key, body: body)
            let streamed = try curlWithHeaders(harness.baseURL + "/v1/chat/completions", key: key, body: streamBody)
            #expect(answered.status == 200 && streamed.status == 200)
            #expect(streamed.body.contains("data: [DONE]"))
            let records = try await harness.waitForRecords(user: "ida", count: 2)
            #expect(records.map(\.requestID) == [answered.headers["x-request-id"], streamed.headers["x-request-id"]])

            var seen = Set<String>()
            for (method, path, presented, status) in [("GET", "/healthz", nil, 200), ("GET", "/metrics", nil, 200),
                                                      ("GET", "/v1/models", key, 200), ("GET", "/v1/usage", key, 200),
                                                      ("GET", "/v1/usage", nil, 401), ("GET", "/v1/usage", "tm_bad_key", 401),
                                                      ("GET", "/admin/users", nil, 401), ("GET", "/nowhere", nil, 404)] {
                let answer = try curlWithHeaders(harness.baseURL + path, method: method, key: presented)
                #expect(answer.status == status, "\(method) \(path)")
                let id = try #require(answer.headers["x-request-id"], "\(method) \(path) has no x-request-id")
                #expect(Self.isRequestID(id), "\(id)")
                seen.insert(id)
            }
            #expect(seen.count == 8, "each request has its own id")
            try await harness.stop()
        }

        @Test("answers to a key say what is left of its budget: after a completed answer, while a stream holds, on a refusal")
        func remainingBudget() async throws {
            let harness = try await GatewayHarness.start()
            let limit = Money(dollars: 1)
            let key = try await harness.addUser("rem", budget: Budget(monthlyLimit: limit, monthlyTokenLimit: 100_000))
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["one ", "two ", "three"]))
            let body = Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
            let answered = try curlWithHeaders(harness.baseURL + "/v1/chat/completions", key: key, body: body)
            #expect(answered.status == 200)
            let first = try #require(try await harness.waitForRecords(user: "rem", count: 1).first)
            #expect(answered.headers["x-tokenmeter-remaining-usd"] == (limit - Money(picoUSD: first.costPicoUSD)).decimalString)
            #expect(answered.headers["x-tokenmeter-remaining-tokens"] == String(100_000 - first.billedTokens))

            // A stream answers before it ends: its headers count its hold (prompt plus its output allowance).
            let streamBody = Array(#"{"model":"gpt-4o-mini","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
            let streamed = try curlWithHeaders(harness.baseURL + "/v1/chat/completions", key: key, body: streamBody)
            let records = try await harness.waitForRecords(user: "rem", count: 2)
            let whileHeld = try #require(streamed.headers["x-tokenmeter-remaining-tokens"].flatMap { Int64($0) })
            #expect(whileHeld == 100_000 - first.billedTokens - (records[1].promptTokens + 50))
            let usdWhileHeld = try #require(streamed.headers["x-tokenmeter-remaining-usd"].flatMap(Money.init))
            #expect(usdWhileHeld < limit - Money(picoUSD: first.costPicoUSD + records[1].costPicoUSD))

            // Another route, after both settled: exactly the limit less what was billed.
            let usage = try curlWithHeaders(harness.baseURL + "/v1/usage", method: "GET", key: key)
            let billed = records.map(\.costPicoUSD).reduce(0, +)
            #expect(usage.headers["x-tokenmeter-remaining-usd"] == (limit - Money(picoUSD: billed)).decimalString)

            // Unlimited budgets say so; a refusal still carries the headers.
            let free = try await harness.addUser("free")
            let models = try curlWithHeaders(harness.baseURL + "/v1/models", method: "GET", key: free)
            #expect(models.headers["x-tokenmeter-remaining-usd"] == "unlimited")
            #expect(models.headers["x-tokenmeter-remaining-tokens"] == "unlimited")
            let broke = try await harness.addUser("broke", budget: Budget(monthlyLimit: Money(picoUSD: 1)))
            let refused = try curlWithHeaders(harness.baseURL + "/v1/chat/completions", key: broke, body: body)
            #expect(refused.status == 429)
            #expect(refused.headers["x-tokenmeter-remaining-usd"] == Money(picoUSD: 1).decimalString)
            #expect(refused.headers["x-request-id"] != nil)
            try await harness.stop()
        }
    }
}
