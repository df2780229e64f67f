import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokenMeterJSON
import TokenMeterLedger
import TokenMeterReports

/// The operator's console at `/console` (docs/CONSOLE.md): sign-in with the admin key, then overview,
/// users, one user, reports and alerts. Every change is a POST form carrying the session's CSRF token,
/// answered with a redirect (post/redirect/get), except issuing a key, whose answer shows the key once.
extension Gateway {
    func consoleRoutes(sessions: ConsoleSessions?) -> RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.get("console/static/console.css") { _, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        routes.get("console/static/console.js") { _, _ in Self.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8") }
        guard let sessions else {
            let off: @Sendable (Request, GatewayRequestContext) async throws -> Response = { _, _ in
                Self.html(ConsoleHTML.page("Console off", section: nil, session: nil, body: """
                    <h1>The console is off</h1><p>It needs an admin key: set <code>admin_key</code> in the configuration \
                    or <code>TOKENMETER_ADMIN_KEY</code>, and restart (docs/CONSOLE.md).</p>
                    """), status: .notFound)
            }
            routes.get("console", use: off)
            routes.get("console/**", use: off)
            return routes
        }
        let console = Console(gateway: self, sessions: sessions)
        routes.get("console") { request, _ in
            guard let session = console.session(request) else { return Self.html(console.signInPage(), status: .ok) }
            return try await console.show(request, session) { try await console.overview($0) }
        }
        routes.post("console/sign-in") { request, _ in try await console.signIn(request) }
        routes.post("console/sign-out") { request, _ in
            try await console.change(request) { session, _ in
                sessions.end(session)
                var response = Self.redirect("/console")
                response.headers[.setCookie] = console.cookie("", maxAge: 0, request: request)
                return response
            }
        }
        routes.get("console/users") { request, _ in
            try await console.page(request) { try await console.users($0, flash: console.flash(request)) }
        }
        routes.post("console/users") { request, _ in
            try await console.change(request) { _, form in
                let name = form["name", default: ""].trimmingCharacters(in: .whitespaces)
                let patch = try BudgetPatch(monthlyUSD: form["monthly_usd"].flatMap(Console.limit),
                                            monthlyTokens: form["monthly_tokens"].flatMap(Console.limit),
                                            maxRequestUSD: form["max_request_usd"].flatMap(Console.limit))
                let user = try await store.addUser(name: name, budget: patch.applied(to: .unlimited))
                return Self.redirect("/console/users/\(Console.path(user.name))?done=added")
            }
        }
        routes.get("console/users/:name") { request, context in
            let name = try context.parameters.require("name")
            return try await console.page(request) { try await console.user($0, name: name, flash: console.flash(request)) }
        }
        routes.post("console/users/:name/budget") { request, context in
            let name = try context.parameters.require("name")
            return try await console.change(request) { _, form in
                let user = try await store.user(named: name)
                // An empty field is no limit: the form always shows all three, so each is set or cleared.
                let patch = try BudgetPatch(monthlyUSD: Console.limit(form["monthly_usd", default: ""]) ?? "none",
                                            monthlyTokens: Console.limit(form["monthly_tokens", default: ""]) ?? "none",
                                            maxRequestUSD: Console.limit(form["max_request_usd", default: ""]) ?? "none")
                _ = try await store.updateBudget(userID: user.id, patch)
                return Self.redirect("/console/users/\(Console.path(user.name))?done=budget")
            }
        }
        for (action, status) in [("disable", UserStatus.disabled), ("enable", UserStatus.active)] {
            routes.post("console/users/:name/\(action)") { request, context in
                let name = try context.parameters.require("name")
                return try await console.change(request) { _, form in
                    let user = try await store.setStatus(userID: try await store.user(named: name).id, status)
                    let back = form["back"] == "users" ? "/console/users" : "/console/users/\(Console.path(user.name))"
                    return Self.redirect("\(back)?done=\(action)d")
                }
            }
        }
        routes.post("console/users/:name/keys") { request, context in
            let name = try context.parameters.require("name")
            return try await console.change(request) { session, _ in
                let user = try await store.user(named: name)
                let issued = try await store.createAPIKey(userID: user.id)
                return Self.html(try await console.user(session, name: user.name, flash: nil, newKey: issued.key), status: .created)
            }
        }
        routes.post("console/keys/:prefix/revoke") { request, context in
            let prefix = try context.parameters.require("prefix")
            return try await console.change(request) { _, _ in
                let key = try await store.revokeAPIKey(prefix: prefix)
                return Self.redirect("/console/users/\(Console.path(key.userName))?done=revoked")
            }
        }
        routes.get("console/reports") { request, _ in
            try await console.page(request) { try await console.reports($0, month: request.uri.queryParameters.get("month")) }
        }
        routes.get("console/reports/download") { request, _ in
            guard console.session(request) != nil else { return Self.redirect("/console") }
            return try await console.download(request)
        }
        routes.get("console/alerts") { request, _ in try await console.page(request) { try await console.alerts($0) } }
        routes.get("console/live.json") { request, _ in
            guard console.session(request) != nil else {
                return Self.json(["error": .string("not signed in")], status: .unauthorized)
            }
            return try await console.live(user: request.uri.queryParameters.get("user"))
        }
        return routes
    }

    /// An HTML response with the console's security headers: nothing cached, no framing, scripts and styles
    /// only from the console itself (inline styles allowed for the charts' legend swatches).
    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        var response = Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: text)))
        secure(&response)
        return response
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        secure(&response)
        return response
    }

    static func secure(_ response: inout Response) {
        response.headers[.cacheControl] = "no-store"
        response.headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
    }

    private static func asset(_ text: String, type: String) -> Response {
        var response = Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.cacheControl] = "max-age=3600"
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}
