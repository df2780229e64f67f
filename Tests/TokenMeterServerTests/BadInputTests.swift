import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterJSON

extension ServerTests {
    @Suite("Authentication and bad input")
    struct BadInputTests {
        @Test("bad keys, disabled users and revoked keys get 401 in OpenAI's shape")
        func authentication() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("nia")
            let url = harness.baseURL + "/v1/chat/completions"
            let body = Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
            for presented in [nil, "nope", "tm_aaaaaaaa_bbbb", key + "x"] {
                let (status, text) = try curl(url, key: presented, body: body)
                #expect(status == 401)
                let error = try JSONParser.parse(Data(text.utf8))["error"]
                #expect(error?["code"]?.stringValue == "invalid_api_key" || presented == nil && error?["code"]?.stringValue == "invalid_api_key")
                #expect(error?["type"]?.stringValue == "invalid_request_error")
            }
            // The scheme in any case, and spaces or tabs between it and the key, are accepted.
            #expect(try curl(url, key: nil, body: body, headers: ["Authorization: bearer \t  \(key)"]).status == 200)
            #expect(try curl(url, key: nil, body: body, headers: ["Authorization: Bearer \(key)x"]).status == 401)
            let admin = "Authorization: Bearer admin-key-0123456789abcdef"
            #expect(try curl(harness.baseURL + "/admin/users/nia/disable", key: nil, headers: [admin]).status == 200)
            #expect(try curl(url, key: key, body: body).status == 401)
            #expect(try curl(harness.baseURL + "/admin/users/nia/enable", key: nil, headers: [admin]).status == 200)
            #expect(try curl(url, key: key, body: body).status == 200)
            let prefix = String(key.split(separator: "_")[1])
            #expect(try curl(harness.baseURL + "/admin/keys/\(prefix)", method: "DELETE", key: nil, headers: [admin]).status == 200)
            #expect(try curl(url, key: key, body: body).status == 401)
            try await harness.stop()
        }

        @Test("malformed, mistyped, empty, unknown-model, oversized, non-UTF-8 and absurd requests get OpenAI 4xx, no upstream call, nothing billed")
        func badInput() async throws {
            let harness = try await GatewayHarness.start { $0.bodyLimitBytes = 4096 }
            let key = try await harness.addUser("oli")
            let url = harness.baseURL + "/v1/chat/completions"
            let cases: [(String, [UInt8], Int, String?)] = [
                ("malformed JSON", Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user""#.utf8), 400, nil),
                ("not an object", Array("[1,2]".utf8), 400, nil),
                ("messages missing", Array(#"{"model":"gpt-4o-mini"}"#.utf8), 400, "messages"),
                ("messages empty", Array(#"{"model":"gpt-4o-mini","messages":[]}"#.utf8), 400, "messages"),
                ("messages wrong type", Array(#"{"model":"gpt-4o-mini","messages":"hi"}"#.utf8), 400, "messages"),
                ("model missing", Array(#"{"messages":[{"role":"user","content":"hi"}]}"#.utf8), 400, "model"),
                ("model wrong type", Array(#"{"model":5,"messages":[{"role":"user","content":"hi"}]}"#.utf8), 400, "model"),
                ("unknown model", Array(#"{"model":"gpt-99-ultra","messages":[{"role":"user","content":"hi"}]}"#.utf8), 404, "model"),
                ("stream wrong type", Array(#"{"model":"gpt-4o-mini","stream":"yes","messages":[{"role":"user","content":"hi"}]}"#.utf8), 400, "stream"),
                ("negative max_tokens", Array(#"{"model":"gpt-4o-mini","max_tokens":-5,"messages":[{"role":"user","content":"hi"}]}"#.utf8), 400, "max_tokens"),
                ("absurd max_tokens", Array(#"{"model":"gpt-4o-mini","max_tokens":99999999999,"messages":[{"role":"user","content":"hi"}]}"#.utf8), 400, "max_tokens"),
                ("fractional max_tokens", Array(#"{"model":"gpt-4o-mini","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}"#.utf8), 400, "max_tokens"),
                ("invalid UTF-8", Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":""#.utf8) + [0xC3, 0x28] + Array(#""}]}"#.utf8), 400, nil),
                ("over the body limit", Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 5000) + Array(#""}]}"#.utf8), 413, nil),
            ]
            for (name, body, status, param) in cases {
                let (got, text) = try curl(url, key: key, body: body)
                #expect(got == status, "\(name): \(text)")
                let error = try? JSONParser.parse(Data(text.utf8))["error"]
                #expect(error?["message"]?.stringValue?.isEmpty == false, "\(name): \(text)")
                #expect(error?["type"]?.stringValue != nil, "\(name)")
                if let param { #expect(error?["param"]?.stringValue == param, "\(name): \(text)") }
            }
            // Sent chunked, without a Content-Length to refuse it by, the body meets the limit while it is read.
            let oversized = Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 5000) + Array(#""}]}"#.utf8)
            let chunked = try curl(url, key: key, body: oversized, headers: ["Transfer-Encoding: chunked"])
            #expect(chunked.status == 413, "\(chunked.body)")
            #expect(chunked.body.contains("4096"), "\(chunked.body)")
            let tooLong = String(repeating: "word ", count: 700)
            let (status, text) = try curl(url, key: key, body: Array(#"{"model":"gpt-4","max_tokens":8000,"messages":[{"role":"user","content":"\#(tooLong)"}]}"#.utf8))
            #expect(status == 400)
            #expect(text.contains("context_length_exceeded"))
            #expect(harness.upstream.records.isEmpty)
            #expect(try harness.records(user: "oli").isEmpty)
            try await harness.stop()
        }
    }
}
