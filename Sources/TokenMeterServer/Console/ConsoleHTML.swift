import Foundation
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterReports

/// The console's page frame and the small pieces every page uses. Server-rendered HTML: every form works
/// without JavaScript; the one script (``ConsoleAssets/script``) only refreshes figures marked `data-live`.
/// All text from the ledger goes through ``e(_:)``.
enum ConsoleHTML {
    enum Section: String, CaseIterable {
        case overview, users, reports, alerts

        var title: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
        var path: String { self == .overview ? "/console" : "/console/\(rawValue)" }
    }

    /// Escaped text.
    static func e(_ text: String) -> String { HTMLText.escape(text) }

    /// A whole page. `session` nil: the signed-out frame (no navigation).
    static func page(_ title: String, section: Section?, session: ConsoleSessions.Session?, flash: String? = nil,
                     error: String? = nil, liveQuery: String = "", body: String) -> String {
        var nav = ""
        if let session {
            nav = "<nav class=\"console-nav\"><span class=\"brand\">TokenMeter</span>"
            for s in Section.allCases {
                let current = s == section ? " aria-current=\"page\"" : ""
                nav += "<a id=\"nav-\(s.rawValue)\" href=\"\(s.path)\"\(current)>\(s.title)</a>"
            }
            nav += form("/console/sign-out", session: session, id: "sign-out-form", cssClass: "sign-out",
                        button: "<button id=\"sign-out\" type=\"submit\" class=\"link\">Sign out</button>")
            nav += "</nav>\n"
        }
        let messages = (flash.map { "<p id=\"flash\" class=\"flash\" role=\"status\">\(e($0))</p>" } ?? "")
            + (error.map { "<p id=\"error\" class=\"flash error\" role=\"alert\">\(e($0))</p>" } ?? "")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>\(e(title)) · TokenMeter console</title>
            <link rel="icon" href="data:,"/>
            <link rel="stylesheet" href="/console/static/console.css"/>
            <script src="/console/static/console.js" defer=""></script>
            </head>
            <body data-live-query="\(e(liveQuery))">
            \(nav)<main>
            \(messages)\(body)
            </main>
            </body>
            </html>

            """
    }

    /// A POST form with the session's CSRF token.
    static func form(_ action: String, session: ConsoleSessions.Session, id: String? = nil, cssClass: String? = nil,
                     fields: String = "", button: String) -> String {
        let idAttribute = id.map { " id=\"\(e($0))\"" } ?? ""
        let classAttribute = cssClass.map { " class=\"\(e($0))\"" } ?? ""
        return "<form method=\"post\" action=\"\(e(action))\"\(idAttribute)\(classAttribute)>"
            + "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrfToken)\"/>\(fields)\(button)</form>"
    }

    static func card(_ label: String, _ value: String, live: String? = nil, id: String? = nil) -> String {
        let liveAttribute = live.map { " data-live=\"\($0)\"" } ?? ""
        let idAttribute = id.map { " id=\"\($0)\"" } ?? ""
        return "<div class=\"card\"><div class=\"label\">\(e(label))</div><div class=\"value\"\(idAttribute)\(liveAttribute)>\(e(value))</div></div>"
    }

    static func panel(_ title: String, _ body: String, id: String? = nil) -> String {
        "<section class=\"panel\"\(id.map { " id=\"\($0)\"" } ?? "")><h2>\(e(title))</h2>\(body)</section>\n"
    }

    /// A table; `numeric` marks the columns to right-align. Cells are HTML already.
    static func table(id: String? = nil, heads: [String], numeric: Set<Int> = [], rows: [(attributes: String, cells: [String])],
                      empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(e(empty))</p>" }
        var html = "<div class=\"scroll\"><table\(id.map { " id=\"\($0)\"" } ?? "")><thead><tr>"
        for (i, head) in heads.enumerated() { html += "<th\(numeric.contains(i) ? " class=\"num\"" : "")>\(e(head))</th>" }
        html += "</tr></thead><tbody>"
        for row in rows {
            html += "<tr\(row.attributes)>"
            for (i, cell) in row.cells.enumerated() { html += "<td\(numeric.contains(i) ? " class=\"num\"" : "")>\(cell)</td>" }
            html += "</tr>"
        }
        return html + "</tbody></table></div>"
    }

    static func count(_ n: Int64) -> String { n.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) }

    static func time(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: date) + " UTC"
    }

    /// A budget bar: settled, held and left of the monthly limit (USD when there is one, else tokens), with
    /// the figures beside it.
    static func budgetBar(_ status: BudgetStatus, id: String? = nil) -> String {
        let idAttribute = id.map { " id=\"\($0)\"" } ?? ""
        let settled: Int64, held: Int64, limit: Int64, text: (Int64) -> String
        if let money = status.budget.monthlyLimit {
            (settled, held, limit) = (status.settledCost.picoUSD, status.heldCost.picoUSD, money.picoUSD)
            text = { Money(picoUSD: $0).description }
        } else if let tokens = status.budget.monthlyTokenLimit {
            (settled, held, limit) = (status.settledTokens, status.heldTokens, tokens)
            text = { count($0) + " tokens" }
        } else {
            return "<div class=\"budget\"\(idAttribute)><span class=\"figures\">\(e(status.settledCost.description)) spent; "
                + "no monthly limit</span></div>"
        }
        let left = max(0, limit - settled - held)
        // Widths in tenths of a percent of the bar; a full or over-full month fills it.
        func share(_ part: Int64) -> Int64 { limit == 0 ? (part > 0 ? 1000 : 0) : min(1000, Int64(Int128(part) * 1000 / Int128(limit))) }
        let s = share(settled), h = min(1000 - s, share(held))
        let used = limit == 0 ? 100 : Int(min(Int128(999_999), Int128(settled) * 100 / Int128(limit)))
        return """
            <div class="budget"\(idAttribute)><svg class="bar" viewBox="0 0 1000 16" preserveAspectRatio="none" role="img" \
            aria-label="\(used)% of the monthly limit settled" xmlns="http://www.w3.org/2000/svg">\
            <rect class="track" x="0" y="0" width="1000" height="16"/>\
            <rect class="settled" x="0" y="0" width="\(s)" height="16"/>\
            <rect class="held" x="\(s)" y="0" width="\(h)" height="16"/></svg>\
            <span class="figures"><span class="settled-text">\(e(text(settled))) settled</span> · \
            \(e(text(held))) held · \(e(text(left))) left of \(e(text(limit))) (\(used)%)</span></div>
            """
    }

    static func outcome(_ status: UsageStatus) -> String {
        switch status {
        case .completed: "completed"
        case .cutByBudget: "cut by budget"
        case .clientCancelled: "client cancelled"
        case .upstreamError: "upstream failed"
        case .interrupted: "interrupted"
        }
    }
}
