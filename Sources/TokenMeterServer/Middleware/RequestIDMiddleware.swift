import HTTPTypes
import Hummingbird

/// Answers every request, error answers included, with its `x-request-id` header: the id the ledger record
/// and the logs use (``GatewayRequestContext/requestID``). The official SDKs expose it (`_request_id`),
/// so a user can quote it and an operator can find the record.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    static let header = HTTPField.Name("x-request-id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.header] = context.requestID
        return response
    }

    /// A new request id: `chatcmpl-tm` and 128 random bits as 32 lowercase hex digits, from the system's
    /// generator (`getrandom`). It is also the `id` of the chunks TokenMeter writes itself, hence the
    /// chat-completion prefix. Foundation's `UUID()` opened and read `/dev/urandom` for every request.
    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var id = Array("chatcmpl-tm".utf8)
        id.reserveCapacity(id.count + 32)
        for _ in 0..<2 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                id.append(hex[Int(word >> 60)])
                word <<= 4
            }
        }
        return String(decoding: id, as: UTF8.self)
    }
}
