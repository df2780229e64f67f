import Foundation
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterSimulatedUpstream
import TokenMeterTestSupport

/// Debian's chromium and chromium-driver, which the browser test drives through Selenium.
let consoleBrowserRequirement = TestRequirement(
    isMet: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        && (FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") || ProcessInfo.processInfo.environment["CHROMIUM"] != nil),
    "headless Chromium with its driver (apt-get install chromium chromium-driver)")

extension ServerTests {
    @Suite("Web console")
    struct ConsoleTests {
        @Test("sign-in: a wrong key gets 401 and no cookie; the admin key an HttpOnly, SameSite=Strict, expiring cookie that is not the key")
        func signIn() async throws {
            let harness = try await GatewayHarness.start()
            let base = harness.baseURL
            let page = try consoleRequest(base + "/console")
            #expect(page.status == 200 && page.body.contains(#"id="admin-key""#))
            #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(page.headers["x-frame-options"] == "DENY" && page.headers["cache-control"] == "no-store")

            let wrong = try consoleRequest(base + "/console/sign-in", method: "POST", form: [("admin_key", "admin-key-0123456789abcdeX")],
                                           origin: base)
            #expect(wrong.status == 401 && wrong.sessionCookie == nil && wrong.body.contains("not the admin key"))
            for path in ["/console/users", "/console/reports", "/console/alerts", "/console/users/x"] {
                let answer = try consoleRequest(base + path)
                #expect(answer.status == 303 && answer.headers["location"] == "/console", "\(path)")
            }
            #expect(try consoleRequest(base + "/console/live.json").status == 401)

            let ok = try consoleRequest(base + "/console/sign-in", method: "POST", form: [("admin_key", GatewayHarness.adminKey)], origin: base)
            #expect(ok.status == 303 && ok.headers["location"] == "/console")
            let setCookie = try #require(ok.headers["set-cookie"])
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"] {
                #expect(setCookie.contains(attribute), "\(setCookie)")
            }
            let cookie = try #require(ok.sessionCookie)
            #expect(!cookie.contains(GatewayHarness.adminKey) && !setCookie.contains("Secure"))
            for path in ["/console", "/console/users", "/console/reports", "/console/alerts"] {
                let answer = try consoleRequest(base + path, cookie: cookie)
                #expect(answer.status == 200 && answer.body.contains(#"id="sign-out""#), "\(path)")
            }
            try await harness.stop()
        }

        @Test("changes need the session's CSRF token and the console's origin; refused ones change nothing")
        func csrf() async throws {
            let harness = try await GatewayHarness.start()
            let base = harness.baseURL
            _ = try await harness.addUser("ann", budget: Budget(monthlyLimit: Money(picoUSD: 5_000_000_000_000)))
            let cookie = try harness.consoleSignIn()
            let other = try harness.consoleSignIn()
            let token = try #require(try consoleRequest(base + "/console/users/ann", cookie: cookie).csrfToken)
            let otherToken = try #require(try consoleRequest(base + "/console/users/ann", cookie: other).csrfToken)
            #expect(token != otherToken)
            let url = base + "/console/users/ann/budget"
            let fields = [("monthly_usd", "1.00"), ("monthly_tokens", ""), ("max_request_usd", "")]
            let refused: [(String, ConsoleAnswer)] = [
                ("no token", try consoleRequest(url, method: "POST", cookie: cookie, form: fields, origin: base)),
                ("another session's token", try consoleRequest(url, method: "POST", cookie: cookie, form: fields + [("csrf", otherToken)], origin: base)),
                ("another site", try consoleRequest(url, method: "POST", cookie: cookie, form: fields + [("csrf", token)], origin: "http://evil.example")),
                ("no session", try consoleRequest(url, method: "POST", form: fields + [("csrf", token)], origin: base)),
            ]
            for (why, answer) in refused {
                #expect([401, 403].contains(answer.status), "\(why): \(answer.status)")
                #expect(answer.body.contains("nothing was changed"), "\(why)")
            }
            #expect(try consoleRequest(base + "/console/users/ann", cookie: cookie).body.contains("left of $5.00"))
            let done = try consoleRequest(url, method: "POST", cookie: cookie, form: fields + [("csrf", token)], origin: base)
            #expect(done.status == 303 && done.headers["location"] == "/console/users/ann?done=budget")
            let page = try consoleRequest(base + "/console/users/ann?done=budget", cookie: cookie)
            #expect(page.body.contains("Budget saved.") && page.body.contains("left of $1.00"))
            // A request without Origin (curl, a script with the cookie) passes on the token alone.
            #expect(try consoleRequest(url, method: "POST", cookie: cookie, form: fields + [("csrf", token)]).status == 303)
            try await harness.stop()
        }

        @Test("a tampered, expired or signed-out session is refused")
        func sessions() async throws {
            let harness = try await GatewayHarness.start { $0.consoleSession = .seconds(4) }
            let base = harness.baseURL
            let cookie = try harness.consoleSignIn()
            let signedIn = ContinuousClock.now  // the cookie was made before this: it expires by signedIn + 4 s
            #expect(try consoleRequest(base + "/console/users", cookie: cookie).status == 200)
            let last = cookie.last == "0" ? "1" : "0"
            #expect(try consoleRequest(base + "/console/users", cookie: String(cookie.dropLast()) + last).status == 303)
            var parts = cookie.split(separator: ".").map(String.init)
            parts[1] = String(Int(parts[1])! + 3_600_000)  // a later expiry without a new signature
            #expect(try consoleRequest(base + "/console/users", cookie: parts.joined(separator: ".")).status == 303)

            let leaving = try harness.consoleSignIn()
            let token = try #require(try consoleRequest(base + "/console/users", cookie: leaving).csrfToken)
            let out = try consoleRequest(base + "/console/sign-out", method: "POST", cookie: leaving, form: [("csrf", token)], origin: base)
            #expect(out.status == 303 && out.headers["set-cookie"]?.contains("Max-Age=0") == true)
            #expect(try consoleRequest(base + "/console/users", cookie: leaving).status == 303)
            #expect(try consoleRequest(base + "/console/users", cookie: cookie).status == 200, "other sessions go on")

            try await Task.sleep(until: signedIn + .milliseconds(4_100))
            #expect(try consoleRequest(base + "/console/users", cookie: cookie).status == 303, "expired")
            try await harness.stop()
        }

        @Test("without an admin key the console is off (404) and says how to turn it on")
        func off() async throws {
            let harness = try await GatewayHarness.start { $0.adminKey = nil }
            let answer = try consoleRequest(harness.baseURL + "/console")
            #expect(answer.status == 404 && answer.body.contains("TOKENMETER_ADMIN_KEY"))
            #expect(try consoleRequest(harness.baseURL + "/console/sign-in", method: "POST", form: [("admin_key", "x")]).status == 404)
            try await harness.stop()
        }

        @Test("pages show the ledger's figures: spend, requests with both counts, keys, reports and their downloads", arguments: LedgerKind.available)
        func pages(_ ledger: LedgerKind) async throws {
            let harness = try await GatewayHarness.start(ledger: ledger)
            let base = harness.baseURL
            let key = try await harness.addUser("ann", budget: Budget(monthlyLimit: Money(picoUSD: 5_000_000_000_000)))
            for _ in 0..<3 { _ = await collect(harness.client.stream(chat(includeUsage: true), to: harness.gateway(key: key))) }
            let records = try await harness.waitForRecords(user: "ann", count: 3)
            let spent = Money(picoUSD: records.map(\.costPicoUSD).reduce(0, +))
            let cookie = try harness.consoleSignIn()

            let overview = try consoleRequest(base + "/console", cookie: cookie).body
            #expect(overview.contains(#"id="month-cost">\#(spent)<"#) && overview.contains("<svg "))
            let users = try consoleRequest(base + "/console/users", cookie: cookie).body
            #expect(users.contains(#"data-user="ann""#) && users.contains("\(spent) settled"))
            let user = try consoleRequest(base + "/console/users/ann", cookie: cookie).body
            #expect(user.contains(#"id="user-spent" data-live="spent">\#(spent)<"#))
            let recent = try #require(user.range(of: #"id="recent""#).map { user[$0.upperBound...] })
            let recentTable = recent[..<(recent.range(of: "</table>")?.lowerBound ?? recent.endIndex)]
            #expect(recentTable.components(separatedBy: "<td>gpt-4o-mini</td>").count - 1 == 3, "three recent requests")
            let r = records[0]
            #expect(user.contains("\(r.promptTokens) / \(r.promptTokens)"), "local and provider prompt counts")
            #expect(user.contains(#"data-key-prefix=""#))
            #expect(try consoleRequest(base + "/console/users/nobody", cookie: cookie).status == 404)
            // Disable from the users page: the key is refused until the user is enabled again.
            let token = try #require(try consoleRequest(base + "/console/users", cookie: cookie).csrfToken)
            let disabled = try consoleRequest(base + "/console/users/ann/disable", method: "POST", cookie: cookie,
                                              form: [("csrf", token), ("back", "users")], origin: base)
            #expect(disabled.status == 303 && disabled.headers["location"] == "/console/users?done=disabled")
            #expect(try curl(base + "/v1/models", method: "GET", key: key).status == 401)
            #expect(try consoleRequest(base + "/console/users?done=disabled", cookie: cookie).body.contains("User disabled"))
            _ = try consoleRequest(base + "/console/users/ann/enable", method: "POST", cookie: cookie, form: [("csrf", token)], origin: base)
            #expect(try curl(base + "/v1/models", method: "GET", key: key).status == 200)
            // Add a user from the form; a bad budget value is a 400 page naming it, and adds nobody.
            let added = try consoleRequest(base + "/console/users", method: "POST", cookie: cookie,
                                           form: [("csrf", token), ("name", "bea"), ("monthly_usd", "2.50")], origin: base)
            #expect(added.status == 303 && added.headers["location"] == "/console/users/bea?done=added")
            let bad = try consoleRequest(base + "/console/users", method: "POST", cookie: cookie,
                                         form: [("csrf", token), ("name", "cy"), ("monthly_usd", "1,5")], origin: base)
            #expect(bad.status == 400 && bad.body.contains("1,5"))
            #expect(try consoleRequest(base + "/console/users/cy", cookie: cookie).status == 404)

            let live = try consoleRequest(base + "/console/live.json?user=ann", cookie: cookie)
            #expect(live.status == 200 && live.body.contains(#""spent":"\#(spent)""#) && live.body.contains(#""live_streams":"0""#))
            let report = try consoleRequest(base + "/console/reports", cookie: cookie).body
            #expect(report.contains(#"id="download-csv""#) && report.contains("ann"))
            let month = BillingPeriod(containing: Date())
            let csv = try consoleRequest(base + "/console/reports/download?month=\(month)&format=csv", cookie: cookie)
            #expect(csv.status == 200 && csv.headers["content-disposition"] == "attachment; filename=\"tokenmeter-\(month).csv\"")
            #expect(csv.body.contains("ann"))
            #expect(try consoleRequest(base + "/console/reports/download?month=\(month)&format=csv").status == 303, "needs a session")
            #expect(try consoleRequest(base + "/console/reports?month=bad", cookie: cookie).body.contains("is not a month"))
            try await harness.stop()
        }

        @Test("in headless Chromium: sign in, a user's spend from streamed requests, revoke a key (then 401), edit a budget, issue a key")
        func browser() async throws {
            try consoleBrowserRequirement.check()
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("ann", budget: Budget(monthlyLimit: Money(picoUSD: 5_000_000_000_000)))
            harness.upstream.setDefaultScenario(UpstreamScenario(chunks: ["Streamed", " for", " the", " console"], promptTokens: 9))
            for _ in 0..<4 { _ = await collect(harness.client.stream(chat(includeUsage: true), to: harness.gateway(key: key))) }
            let records = try await harness.waitForRecords(user: "ann", count: 4)
            let spent = Money(picoUSD: records.map(\.costPicoUSD).reduce(0, +))
            let shots = FileManager.default.temporaryDirectory.appendingPathComponent("tm-console-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: shots) }
            guard let (status, output) = await OperationsTests.runSDKScript(
                "console_browser_check.py", [harness.baseURL, GatewayHarness.adminKey, "ann", spent.description, key, shots.path],
                package: "selenium") else {
                try await harness.stop()
                return
            }
            #expect(status == 0, "\(output)")
            #expect(output.contains(#""revoked_key_status": 401"#), "\(output)")
            #expect(output.contains(#""console_messages": []"#), "\(output)")
            let pngs = try FileManager.default.contentsOfDirectory(atPath: shots.path).filter { $0.hasSuffix(".png") }
            #expect(pngs.count == 11, "\(pngs)")
            for png in pngs {
                let bytes = try Data(contentsOf: shots.appendingPathComponent(png))
                #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && bytes.count > 10_000, "\(png): \(bytes.count) bytes")
            }
            // The browser's changes are in the ledger: the key is refused, the budget is the one typed.
            let after = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            guard case .httpStatus(401, _, _)? = after.error else {
                Issue.record("the revoked key got \(String(describing: after.error))")
                try await harness.stop()
                return
            }
            #expect(try consoleRequest(harness.baseURL + "/console/users/ann", cookie: try harness.consoleSignIn()).body.contains("left of $12.34"))
            try await harness.stop()
        }
    }
}
