import Crypto
import Foundation
import Hummingbird

/// Guards the `/admin` routes: 404 when the configuration has no admin key (the routes do not exist),
/// 401 unless the request carries `Authorization: Bearer <admin key>`, compared in constant time.
struct AdminKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let adminKey: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let adminKey else {
            throw GatewayError(.notFound, "Admin routes are disabled: no admin key is configured.", code: "not_found")
        }
        let presented = request.headers[.authorization].flatMap { $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        guard Self.constantTimeEqual(presented, adminKey) else { throw GatewayError.invalidAPIKey("Admin routes need the admin key.") }
        return try await next(request, context)
    }

    /// Compares SHA-256 digests of the two strings without early exit.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(SHA256.hash(data: Data(a.utf8))), y = Array(SHA256.hash(data: Data(b.utf8)))
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
