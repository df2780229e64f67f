import Crypto
import Foundation
import Synchronization

/// Console sign-in sessions, kept in the cookie itself and signed with a key derived from the admin key.
///
/// The cookie holds `v1.<expiry>.<nonce>.<mac>`: an expiry (Unix milliseconds), 16 random bytes, and an
/// HMAC-SHA256 over both under `HMAC(admin key, "tokenmeter console session v1")`. The admin key never
/// reaches the browser, and a cookie cannot be forged or extended without it. Every gateway sharing the
/// admin key accepts the same cookie (several instances behind one address need no shared session store),
/// and changing the admin key ends every session. Signing out adds the nonce to a list on this instance
/// until the cookie would have expired anyway.
///
/// The CSRF token of a session is `HMAC(session key, "csrf." + nonce)`: forms carry it in a hidden field,
/// and a change is refused unless it matches the session's (a synchronizer token that needs no storage).
final class ConsoleSessions: Sendable {
    struct Session: Sendable {
        let nonce: String
        let expires: Date
        /// The token every form of this session sends back.
        let csrfToken: String
    }

    static let cookieName = "tokenmeter_console"

    /// The session key's bytes (SymmetricKey is not Sendable; one is made per use).
    private let key: [UInt8]
    let lifetime: Duration
    private let now: @Sendable () -> Date
    /// Signed-out nonces with the time their cookie expires.
    private let signedOut = Mutex([String: Date]())

    init(adminKey: String, lifetime: Duration, now: @escaping @Sendable () -> Date = { Date() }) {
        let derived = HMAC<SHA256>.authenticationCode(for: Array("tokenmeter console session v1".utf8),
                                                      using: SymmetricKey(data: Array(adminKey.utf8)))
        key = Array(derived)
        self.lifetime = lifetime
        self.now = now
    }

    /// A new session and the cookie value that carries it.
    func start() -> (session: Session, cookie: String) {
        var random = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        // Milliseconds, so a session lasts its lifetime to the millisecond, not up to a second less.
        let expiry = Int((now().timeIntervalSince1970 * 1000).rounded(.down)) + Int(lifetime.components.seconds) * 1000
            + Int(lifetime.components.attoseconds / 1_000_000_000_000_000)
        let payload = "v1.\(expiry).\(nonce)"
        let cookie = payload + "." + mac(payload)
        return (Session(nonce: nonce, expires: Date(timeIntervalSince1970: TimeInterval(expiry) / 1000), csrfToken: csrf(nonce)), cookie)
    }

    /// The session a cookie value carries, if it is genuine, unexpired and not signed out.
    func session(cookie: String) -> Session? {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expiry = Int(parts[1]), parts[2].count == 32 else { return nil }
        let payload = parts[0..<3].joined(separator: ".")
        guard Self.constantTimeEqual(mac(payload), String(parts[3])) else { return nil }
        let expires = Date(timeIntervalSince1970: TimeInterval(expiry) / 1000)
        guard expires > now() else { return nil }
        let nonce = String(parts[2])
        if signedOut.withLock({ $0[nonce] != nil }) { return nil }
        return Session(nonce: nonce, expires: expires, csrfToken: csrf(nonce))
    }

    /// Ends `session` on this instance.
    func end(_ session: Session) {
        let now = now()
        signedOut.withLock { list in
            list = list.filter { $0.value > now }
            list[session.nonce] = session.expires
        }
    }

    /// Whether `token` is `session`'s CSRF token.
    func checkCSRF(_ token: String?, for session: Session) -> Bool {
        guard let token else { return false }
        return Self.constantTimeEqual(token, session.csrfToken)
    }

    /// Whether `presented` is the admin key (constant time).
    static func isAdminKey(_ presented: String, _ adminKey: String) -> Bool {
        AdminKeyMiddleware.constantTimeEqual(presented, adminKey)
    }

    private func mac(_ payload: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: SymmetricKey(data: key)).map { String(format: "%02x", $0) }.joined()
    }

    private func csrf(_ nonce: String) -> String { mac("csrf." + nonce) }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
