import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokenMeterLedger

/// Request handling of the console: who is signed in, forms, CSRF and origin checks, and the mapping of
/// ledger errors to pages. The pages themselves are in `Console+Pages.swift`.
struct Console: Sendable {
    let gateway: Gateway
    let sessions: ConsoleSessions

    /// The session of `request`'s cookie, if any is valid.
    func session(_ request: Request) -> ConsoleSessions.Session? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == ConsoleSessions.cookieName else { continue }
                if let session = sessions.session(cookie: parts[1].trimmingCharacters(in: .whitespaces)) { return session }
            }
        }
        return nil
    }

    /// The `Set-Cookie` value for `value`: HttpOnly, SameSite=Strict, scoped to `/console`, and Secure when
    /// the request came over HTTPS (directly or through a proxy that says so).
    func cookie(_ value: String, maxAge: Int, request: Request) -> String {
        let https = request.head.scheme == "https" || request.headers[Self.forwardedProto]?.lowercased() == "https"
        return "\(ConsoleSessions.cookieName)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (https ? "; Secure" : "")
    }

    /// `POST /console/sign-in`: the admin key from the form starts a session; a wrong one gets the form again
    /// with 401, after a short pause that slows guessing.
    func signIn(_ request: Request) async throws -> Response {
        guard sameOrigin(request) else { return refusal(.forbidden, "The sign-in came from another site; it is refused.") }
        let form = Self.parseForm(try await gateway.collectBody(request))
        guard let adminKey = gateway.configuration.adminKey,
              ConsoleSessions.isAdminKey(form["admin_key", default: ""], adminKey) else {
            try? await Task.sleep(for: .milliseconds(300))
            return Gateway.html(signInPage(error: "That is not the admin key."), status: .unauthorized)
        }
        let (_, value) = sessions.start()
        var response = Gateway.redirect("/console")
        response.headers[.setCookie] = cookie(value, maxAge: Int(sessions.lifetime.components.seconds), request: request)
        gateway.logger.notice("console sign-in")
        return response
    }

    /// A GET page that needs a session: without one, to the sign-in page.
    func page(_ request: Request, _ render: (ConsoleSessions.Session) async throws -> String) async throws -> Response {
        guard let session = session(request) else { return Gateway.redirect("/console") }
        return try await show(request, session, render)
    }

    func show(_ request: Request, _ session: ConsoleSessions.Session,
              _ render: (ConsoleSessions.Session) async throws -> String) async throws -> Response {
        do {
            return Gateway.html(try await render(session), status: .ok)
        } catch let error as LedgerError {
            return failure(error, session: session)
        }
    }

    /// A change: needs a session, a request from the console's own origin, and the session's CSRF token.
    func change(_ request: Request,
                _ perform: (ConsoleSessions.Session, [String: String]) async throws -> Response) async throws -> Response {
        guard let session = session(request) else {
            return refusal(.unauthorized, "Your console session has ended, so nothing was changed. Sign in again.")
        }
        guard sameOrigin(request) else { return refusal(.forbidden, "The form came from another site; nothing was changed.") }
        let form = Self.parseForm(try await gateway.collectBody(request))
        guard sessions.checkCSRF(form["csrf"], for: session) else {
            return refusal(.forbidden, "The form's security token does not match your session (it is from an older "
                + "sign-in or another site); nothing was changed. Reload the page and try again.")
        }
        do {
            return try await perform(session, form)
        } catch let error as LedgerError {
            return failure(error, session: session)
        }
    }

    /// Browsers send `Origin` with every POST; one that names another site is refused (SameSite=Strict keeps
    /// the cookie from such requests already; this is the second lock).
    private func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin], origin != "null" else { return request.headers[.origin] == nil }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    private func refusal(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Gateway.html(ConsoleHTML.page("Refused", section: nil, session: nil, error: message,
                                      body: "<p><a id=\"back-to-console\" href=\"/console\">Back to the console</a></p>"),
                     status: status)
    }

    private func failure(_ error: LedgerError, session: ConsoleSessions.Session) -> Response {
        let status: HTTPResponse.Status
        switch error {
        case .userNotFound, .userIDNotFound, .apiKeyNotFound: status = .notFound
        case .userExists, .invalidUserName, .invalidBudget, .apiKeyRevoked, .apiKeyNotOwned: status = .badRequest
        case .databaseBusy, .databaseUnavailable: status = .serviceUnavailable
        default: status = .internalServerError
        }
        return Gateway.html(ConsoleHTML.page("Error", section: nil, session: session, error: error.description,
                                             body: "<p><a href=\"/console/users\">Back to users</a></p>"), status: status)
    }

    /// The confirmation a redirect asked for (`?done=`); only known codes, so no text is reflected.
    func flash(_ request: Request) -> String? {
        switch request.uri.queryParameters.get("done") {
        case "budget": "Budget saved."
        case "disabled": "User disabled: their keys are refused until the user is enabled again."
        case "enabled": "User enabled."
        case "revoked": "Key revoked: it is refused from now on."
        case "added": "User added. Issue a key below."
        default: nil
        }
    }

    /// `application/x-www-form-urlencoded` fields; the last of a repeated name wins.
    static func parseForm(_ bytes: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// A limit field: trimmed, nil when empty.
    static func limit(_ text: String) -> String? {
        let t = text.trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }

    /// A user name as a path segment (names are `[A-Za-z0-9._@-]`; `@` is the only one to encode).
    static func path(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "@/"))) ?? name
    }
}
