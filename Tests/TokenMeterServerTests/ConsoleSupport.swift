import Crypto
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TokenMeterTestSupport

/// An HTTP exchange with the console as a browser would have it: cookies, an `Origin`, URL-encoded forms.
struct ConsoleAnswer {
    var status: Int
    var headers: [String: String]
    var body: String

    /// The session cookie's value from `Set-Cookie`, if the answer set one.
    var sessionCookie: String? {
        guard let header = headers["set-cookie"], header.hasPrefix("tokenmeter_console=") else { return nil }
        return String(header.dropFirst("tokenmeter_console=".count).prefix { $0 != ";" })
    }

    /// The first CSRF token in the page's forms.
    var csrfToken: String? {
        guard let range = body.range(of: #"name="csrf" value="[0-9a-f]{64}""#, options: .regularExpression) else { return nil }
        return String(body[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }
}

/// `curl` against the console. `origin` nil sends none (as a non-browser client would).
func consoleRequest(_ url: String, method: String = "GET", cookie: String? = nil, form: [(String, String)]? = nil,
                    origin: String? = nil) throws -> ConsoleAnswer {
    var args = ["-s", "-S", "-X", method, "-D", "-", "-o", "-", "--max-time", "30", "--noproxy", "*"]
    if let cookie { args += ["-H", "Cookie: tokenmeter_console=\(cookie)"] }
    if let origin { args += ["-H", "Origin: \(origin)"] }
    var input: [UInt8]?
    if let form {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let text = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        input = Array(text.utf8)
        args += ["-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", "@-"]
    }
    args.append(url)
    let text = try runCurl(args, input: input)
    guard let end = text.range(of: "\r\n\r\n") else { return ConsoleAnswer(status: 0, headers: [:], body: text) }
    let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return ConsoleAnswer(status: Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0, headers: headers,
                         body: String(text[end.upperBound...]))
}

extension GatewayHarness {
    static let adminKey = "admin-key-0123456789abcdef"

    /// Signs in to the console with the admin key; returns the session cookie's value.
    func consoleSignIn() throws -> String {
        let answer = try consoleRequest(baseURL + "/console/sign-in", method: "POST", form: [("admin_key", Self.adminKey)],
                                        origin: baseURL)
        return try #require(answer.sessionCookie, "no session cookie: \(answer.status) \(answer.headers)")
    }
}

/// A webhook receiver on 127.0.0.1: records every POST to `/hook` and answers 200, or 500 to the first
/// `failFirst` calls.
final class WebhookReceiver: Sendable {
    struct Call: Sendable {
        var headers: [String: String]
        var body: [UInt8]

        /// Whether `X-TokenMeter-Signature` is the HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
        func isSigned(with secret: String) -> Bool {
            guard let timestamp = headers["x-tokenmeter-timestamp"], let signature = headers["x-tokenmeter-signature"] else { return false }
            let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
            return signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        }

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    private let calls = Mutex<[Call]>([])
    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    var url: String { "http://127.0.0.1:\(port)/hook" }

    static func start(failFirst: Int = 0) async throws -> WebhookReceiver {
        let box = Mutex<WebhookReceiver?>(nil)
        let router = Router()
        router.post("hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let n = box.withLock { $0 }?.record(Call(headers: headers, body: Array(body.readableBytesView))) ?? 0
            return n <= failFirst ? .internalServerError : .ok
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError.serverDidNotStart }
        let receiver = WebhookReceiver(port: port, group: group, running: running)
        box.withLock { $0 = receiver }
        return receiver
    }

    private init(port: Int, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.running = running
    }

    private func record(_ call: Call) -> Int { calls.withLock { $0.append(call); return $0.count } }

    var received: [Call] { calls.withLock { $0 } }

    /// Waits until `count` calls arrived (or `timeout`), then returns all of them.
    func waitFor(_ count: Int, timeout: Duration = .seconds(15)) async throws -> [Call] {
        let deadline = ContinuousClock.now + timeout
        while received.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return received
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
