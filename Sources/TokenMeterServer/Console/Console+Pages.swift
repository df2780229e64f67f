import Foundation
import Hummingbird
import NIOCore
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterReports

/// The console's pages, rendered on the server from the ledger (and this instance's live stream count).
extension Console {
    private var store: any GatewayLedger { gateway.store }
    private typealias H = ConsoleHTML

    func signInPage(error: String? = nil) -> String {
        H.page("Sign in", section: nil, session: nil, error: error, body: """
            <section class="panel sign-in"><h1>TokenMeter console</h1>
            <form method="post" action="/console/sign-in" id="sign-in-form">
            <input type="text" name="username" value="admin" autocomplete="username" hidden=""/>
            <label for="admin-key">Admin key</label>
            <input type="password" id="admin-key" name="admin_key" autocomplete="current-password" required=""/>
            <p><button id="sign-in" type="submit">Sign in</button></p></form>
            <p class="note">The key is checked once; the browser keeps only a signed session cookie that expires \
            after \(Int(sessions.lifetime.components.seconds / 3600)) hours.</p></section>
            """)
    }

    func overview(_ session: ConsoleSessions.Session) async throws -> String {
        let period = BillingPeriod(containing: Date())
        let report = try await store.monthlyReport(for: period, userName: nil)
        let alerts = try await store.budgetAlerts(userID: nil, limit: 1000).filter { $0.event.period == period }
        let t = report.totals
        var body = "<h1>Overview: \(period)</h1><section class=\"cards\">"
        body += H.card("Spent this month", t.cost.description, id: "month-cost")
        body += H.card("Requests", H.count(t.requests))
        body += H.card("Billed tokens", H.count(t.billedTokens))
        body += H.card("Live streams now", "\(gateway.metrics.liveStreams)", live: "live_streams", id: "live-streams")
        body += H.card("Cut by budget", H.count(t.outcomes.cutByBudget))
        body += H.card("Budget alerts", H.count(Int64(alerts.count)))
        body += "</section>"
        body += H.panel("Spend per day (UTC), by user", HTMLReportRenderer.dailyCostChart(report))
        let models = H.table(id: "models", heads: ["Model", "Requests", "Billed tokens", "Cost"], numeric: [1, 2, 3],
                             rows: report.models.map { m in
                                 ("", [H.e(m.model), H.count(m.totals.requests), H.count(m.totals.billedTokens), H.e(m.totals.cost.description)])
                             }, empty: "No usage this month yet.")
        body += "<div class=\"columns\">" + H.panel("Spend per model", HTMLReportRenderer.modelCostChart(report) + models)
        let o = t.outcomes
        let outcomes: [(String, Int64)] = [("completed", o.completed), ("cut by budget", o.cutByBudget),
                                           ("client cancelled", o.clientCancelled), ("upstream failed", o.upstreamError),
                                           ("interrupted", o.interrupted)]
        body += H.panel("Requests by outcome", H.table(id: "outcomes", heads: ["Outcome", "Requests"], numeric: [1],
                                                       rows: outcomes.map { ("", [$0.0, H.count($0.1)]) }, empty: ""))
        body += "</div>"
        body += "<p class=\"live-note\">Settled requests only; live streams are this instance's and refresh every 5 s.</p>"
        return H.page("Overview", section: .overview, session: session, body: body)
    }

    func users(_ session: ConsoleSessions.Session, flash: String?) async throws -> String {
        let users = try await store.listUsers()
        let keys = try await store.listAPIKeys(userID: nil)
        var rows: [(String, [String])] = []
        for user in users {
            let status = try await store.remaining(userID: user.id)
            let active = keys.filter { $0.userID == user.id && $0.revokedAt == nil }.count
            let toggle = user.status == .active ? "disable" : "enable"
            let button = H.form("/console/users/\(Self.path(user.name))/\(toggle)", session: session, cssClass: "inline",
                                fields: "<input type=\"hidden\" name=\"back\" value=\"users\"/>",
                                button: "<button type=\"submit\" class=\"\(toggle == "disable" ? "danger" : "secondary")\">"
                                    + "\(toggle.capitalized)</button>")
            rows.append((" data-user=\"\(H.e(user.name))\"", [
                "<a class=\"user-link\" href=\"/console/users/\(H.e(Self.path(user.name)))\">\(H.e(user.name))</a>",
                "<span class=\"status-\(user.status.rawValue)\">\(user.status.rawValue)</span>",
                H.budgetBar(status), "\(active)", button,
            ]))
        }
        var body = "<h1>Users</h1>"
        body += H.panel("Users and their month", H.table(id: "users", heads: ["User", "Status", "This month", "Active keys", ""],
                                                         numeric: [3], rows: rows, empty: "No users yet: add one below."))
        body += H.panel("Add a user", H.form("/console/users", session: session, id: "add-user-form", cssClass: "grid", fields: """
            <div><label for="new-name">Name</label><input type="text" id="new-name" name="name" required="" \
            pattern="[A-Za-z0-9._@-]{1,64}"/></div>\(Self.limitFields(nil, prefix: "new"))
            """, button: "<div><button id=\"add-user\" type=\"submit\">Add user</button></div>")
            + "<p class=\"note\">Limits left empty are unlimited. USD amounts are exact (up to 12 decimals).</p>")
        return H.page("Users", section: .users, session: session, flash: flash, body: body)
    }

    func user(_ session: ConsoleSessions.Session, name: String, flash: String?, newKey: String? = nil) async throws -> String {
        let user = try await store.user(named: name)
        let period = BillingPeriod(containing: Date())
        let status = try await store.remaining(userID: user.id)
        let report = try await store.monthlyReport(for: period, userName: user.name)
        let records = try await store.recentRecords(userID: user.id, limit: 50)
        let keys = try await store.listAPIKeys(userID: user.id)
        let alerts = try await store.budgetAlerts(userID: user.id, limit: 50)
        let path = "/console/users/\(Self.path(user.name))"

        var body = "<h1>\(H.e(user.name)) <span class=\"badge status-\(user.status.rawValue)\">\(user.status.rawValue)</span></h1>"
        if let newKey {
            // First on the page: the only time anyone sees the key.
            body += H.panel("New API key", "<p>Shown this once: copy it and give it to \(H.e(user.name)) now. The ledger keeps "
                + "only its hash.</p><code id=\"new-key\" class=\"secret\">\(H.e(newKey))</code>", id: "new-key-panel")
        }
        body += "<section class=\"cards\">"
        body += H.card("Spent this month", status.settledCost.description, live: "spent", id: "user-spent")
        body += H.card("Held by live requests", status.heldCost.description, live: "held", id: "user-held")
        body += H.card("Requests this month", H.count(status.settledRequests), live: "requests")
        body += H.card("Live requests", H.count(status.liveReservations), live: "live")
        body += "</section>"
        body += H.panel("Budget", H.budgetBar(status, id: "user-budget")
            + H.form("\(path)/budget", session: session, id: "budget-form", cssClass: "grid",
                     fields: Self.limitFields(status.budget, prefix: "budget"),
                     button: "<div><button id=\"save-budget\" type=\"submit\">Save budget</button></div>")
            + "<p class=\"note\">Empty is unlimited. Spend is settled usage; held is what live requests reserve.</p>"
            + H.form("\(path)/\(user.status == .active ? "disable" : "enable")", session: session, id: "status-form",
                     button: user.status == .active
                        ? "<button id=\"disable-user\" type=\"submit\" class=\"danger\">Disable user</button>"
                        : "<button id=\"enable-user\" type=\"submit\" class=\"secondary\">Enable user</button>"))
        body += H.panel("Spend per day (UTC)", HTMLReportRenderer.dailyCostChart(report))

        var keyPanel = ""
        keyPanel += H.table(id: "keys", heads: ["Key", "Created", "Last used", "Status", ""], rows: keys.map { key in
            let state = key.revokedAt.map { "<span class=\"revoked\">revoked \(H.e(H.time($0)))</span>" } ?? "active"
            let action = key.revokedAt == nil
                ? H.form("/console/keys/\(key.prefix)/revoke", session: session, cssClass: "inline",
                         button: "<button type=\"submit\" class=\"danger revoke\">Revoke</button>")
                : ""
            return (" data-key-prefix=\"\(key.prefix)\"", [
                "<code>\(H.e(key.displayPrefix))</code>", H.e(H.time(key.createdAt)),
                key.lastUsedAt.map { H.e(H.time($0)) } ?? "never", state, action,
            ])
        }, empty: "No keys yet.")
        keyPanel += H.form("\(path)/keys", session: session, id: "issue-key-form",
                           button: "<p><button id=\"issue-key\" type=\"submit\" class=\"secondary\">Issue a new key</button></p>")
        body += H.panel("API keys", keyPanel, id: "key-panel")

        body += H.panel("Recent requests", H.table(
            id: "recent", heads: ["Ended", "Model", "Prompt tokens (local / provider)", "Completion tokens (local / provider)",
                                  "Cost", "Billed by", "Outcome"], numeric: [2, 3, 4],
            rows: records.map { r in
                let p = r.usage.provider
                return ("", [H.e(H.time(r.endedAt)), H.e(r.model),
                             "\(H.count(r.usage.promptTokens)) / \(p.map { H.count($0.promptTokens) } ?? "–")",
                             "\(H.count(r.usage.completionTokens)) / \(p.map { H.count($0.completionTokens) } ?? "–")",
                             H.e(r.usage.cost.description), r.usage.billedBy.rawValue, H.outcome(r.status)])
            }, empty: "No requests yet."))
        body += H.panel("Drift this month: provider counts against TokenMeter's", Self.driftTable(report))
        body += H.panel("Budget alerts", Self.alertTable(alerts, webhook: gateway.configuration.alerts.webhookURL != nil))
        return H.page(user.name, section: .users, session: session, flash: flash,
                      liveQuery: "?user=\(Self.path(user.name))", body: body)
    }

    func reports(_ session: ConsoleSessions.Session, month: String?) async throws -> String {
        var period = BillingPeriod(containing: Date())
        var error: String?
        if let month, !month.isEmpty {
            if let p = BillingPeriod(parsing: month) { period = p } else { error = "'\(month)' is not a month (YYYY-MM); showing \(period)." }
        }
        let report = try await store.monthlyReport(for: period, userName: nil)
        let downloads = ReportFormat.allCases.filter { $0 != .table }.map { format in
            "<a id=\"download-\(format.rawValue)\" href=\"/console/reports/download?month=\(period)&amp;format=\(format.rawValue)\">"
                + "\(format.rawValue.uppercased())</a>"
        }.joined()
        let body = """
            <form method="get" action="/console/reports" class="grid" id="month-form"><div><label for="month">Month</label>\
            <input type="month" id="month" name="month" value="\(period)"/></div><div><button type="submit">Show</button></div></form>
            <p class="downloads">Download: \(downloads)</p>
            \(HTMLReportRenderer.body(report))
            """
        return H.page("Report \(period)", section: .reports, session: session, error: error, body: body)
    }

    func download(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let period = BillingPeriod(parsing: query.get("month") ?? ""),
              let format = ReportFormat(rawValue: query.get("format") ?? ""), format != .table else {
            return Gateway.html(H.page("Bad download", section: nil, session: nil,
                                       error: "A download needs month=YYYY-MM and format=csv, json or html.", body: ""),
                                status: .badRequest)
        }
        let report = try await store.monthlyReport(for: period, userName: nil)
        var response = Response(status: .ok, headers: [.contentType: format.mediaType],
                                body: .init(byteBuffer: ByteBuffer(string: format.render(report))))
        response.headers[.contentDisposition] = "attachment; filename=\"tokenmeter-\(period).\(format.rawValue)\""
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func alerts(_ session: ConsoleSessions.Session) async throws -> String {
        let alerts = try await store.budgetAlerts(userID: nil, limit: 500)
        let settings = gateway.configuration.alerts
        let thresholds = settings.thresholdsPercent.sorted().map { "\($0)%" }.joined(separator: ", ")
        let about = settings.thresholdsPercent.isEmpty ? "Alerts are off (alerts.thresholds_percent is empty)."
            : "Each user's monthly limits alert at \(thresholds), once per month each; "
                + (settings.webhookURL.map { "sent to \(H.e($0))." } ?? "no webhook is configured (log line and metric only).")
        return H.page("Alerts", section: .alerts, session: session, body: "<h1>Budget alerts</h1><p>\(about)</p>"
            + H.panel("Sent", Self.alertTable(alerts, webhook: settings.webhookURL != nil, withUser: true)))
    }

    /// `GET /console/live.json[?user=NAME]`: what the page's script refreshes.
    func live(user name: String?) async throws -> Response {
        var object: JSONObject = ["live_streams": .string("\(gateway.metrics.liveStreams)")]
        if let name, let user = try? await store.user(named: name) {
            let status = try await store.remaining(userID: user.id)
            object["spent"] = .string(status.settledCost.description)
            object["held"] = .string(status.heldCost.description)
            object["requests"] = .string(H.count(status.settledRequests))
            object["live"] = .string(H.count(status.liveReservations))
        }
        var response = Gateway.json(.object(object))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    // MARK: - Pieces

    private static func limitFields(_ budget: Budget?, prefix: String) -> String {
        func field(_ id: String, _ name: String, _ label: String, _ value: String?) -> String {
            "<div><label for=\"\(prefix)-\(id)\">\(label)</label><input type=\"text\" inputmode=\"decimal\" id=\"\(prefix)-\(id)\" "
                + "name=\"\(name)\" value=\"\(H.e(value ?? ""))\" placeholder=\"unlimited\"/></div>"
        }
        return field("monthly-usd", "monthly_usd", "Monthly limit (USD)", budget?.monthlyLimit.map { $0.formatted(symbol: "") })
            + field("monthly-tokens", "monthly_tokens", "Monthly tokens", budget?.monthlyTokenLimit.map(String.init))
            + field("max-request-usd", "max_request_usd", "Most per request (USD)", budget?.maxRequestCost.map { $0.formatted(symbol: "") })
    }

    private static func driftTable(_ report: MonthlyReport) -> String {
        func percent(_ provider: Int64, _ local: Int64) -> String {
            guard local > 0 else { return "–" }
            let tenths = (provider - local) * 1000 / local
            let sign = tenths > 0 ? "+" : tenths < 0 ? "−" : ""
            return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)%"
        }
        let rows: [(String, [String])] = report.models.compactMap { m in
            guard let d = m.totals.drift else { return nil }
            return ("", [H.e(m.model), H.count(d.requests), H.count(d.localPromptTokens), H.count(d.providerPromptTokens),
                         percent(d.providerPromptTokens, d.localPromptTokens), H.count(d.localCompletionTokens),
                         H.count(d.providerCompletionTokens), percent(d.providerCompletionTokens, d.localCompletionTokens)])
        }
        return H.table(id: "drift", heads: ["Model", "Requests", "Prompt: local", "provider", "drift", "Completion: local",
                                            "provider", "drift"], numeric: Set(1...7), rows: rows,
                       empty: "No request this month has both counts (the provider reported no usage, or nothing settled).")
    }

    private static func alertTable(_ alerts: [BudgetAlert], webhook: Bool, withUser: Bool = false) -> String {
        var heads = ["Fired", "Month", "Limit", "Threshold", "Spent then", "Reason", "Webhook"]
        if withUser { heads.insert("User", at: 1) }
        return H.table(id: "alerts", heads: heads, rows: alerts.map { a in
            let e = a.event
            let unit = e.limit == .usd ? "USD" : "tokens"
            let delivery: String
            if let at = a.deliveredAt {
                delivery = "delivered \(H.e(H.time(at)))"
            } else if a.attempts > 0 {
                delivery = "not delivered after \(a.attempts) attempt\(a.attempts == 1 ? "" : "s")"
                    + (a.lastError.map { ": \(H.e($0))" } ?? "")
            } else {
                delivery = webhook ? "pending" : "no webhook"
            }
            var cells = [H.e(H.time(a.firedAt)), "\(e.period)",
                         "\(H.e(BudgetAlerts.amount(e.limitValue, e.limit))) \(unit)", "\(e.thresholdPercent)%",
                         "\(H.e(BudgetAlerts.amount(e.spent, e.limit))) \(unit)",
                         e.reason == .spent ? "spend reached it" : "nothing left for a request", delivery]
            if withUser {
                cells.insert("<a href=\"/console/users/\(H.e(path(a.userName)))\">\(H.e(a.userName))</a>", at: 1)
            }
            return ("", cells)
        }, empty: "No alert has fired.")
    }
}
