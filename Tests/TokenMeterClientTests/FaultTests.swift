import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream

#if canImport(Glibc)
import Glibc
#endif

extension NetworkTests {
    /// Bar: every fault mode produces its typed error.
    @Suite struct Faults {
        static let providers: [Upstream.Provider] = [.openAICompatible, .ollama]

        func run(_ scenario: UpstreamScenario, _ provider: Upstream.Provider, timeouts: ChatTimeouts? = nil) async throws -> (events: [ChatEvent], error: ChatClientError?) {
            try await withUpstream { upstream, client in
                upstream.setScenario(scenario, forModel: "m")
                let target = provider == .ollama ? ollama(upstream) : openAI(upstream)
                return await collect(client.stream(request(model: "m"), to: target, timeouts: timeouts))
            }
        }

        @Test(arguments: providers)
        func droppedConnectionIsConnectionLostAfterTheChunksThatArrived(provider: Upstream.Provider) async throws {
            let (events, error) = try await run(.counting(10, fault: .dropConnection(afterChunks: 3)), provider)
            #expect(events.compactMap(\.content) == ["t0 ", "t1 ", "t2 "])
            guard case .connectionLost? = error else { Issue.record("expected connectionLost, got \(String(describing: error))"); return }
        }

        @Test func openAIStyle429IsHTTPStatusWithTheParsedBody() async throws {
            let fault = UpstreamScenario.Fault.status(429, message: "You exceeded your current quota.", type: "insufficient_quota", code: "insufficient_quota")
            let (events, error) = try await run(UpstreamScenario(fault: fault), .openAICompatible)
            #expect(events.isEmpty)
            guard case .httpStatus(let code, let providerError, let body)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(code == 429)
            #expect(providerError == ProviderError(message: "You exceeded your current quota.", type: "insufficient_quota", code: "insufficient_quota"))
            #expect(body.contains("insufficient_quota"))
        }

        @Test func ollamaStyle500IsHTTPStatusWithTheMessage() async throws {
            let (_, error) = try await run(UpstreamScenario(fault: .status(500, message: "model runner crashed")), .ollama)
            guard case .httpStatus(500, let providerError, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(providerError == ProviderError(message: "model runner crashed"))
        }

        @Test(arguments: providers)
        func stallAfterChunksIsAnIdleTimeout(provider: Upstream.Provider) async throws {
            let started = ContinuousClock.now
            let (events, error) = try await run(
                .counting(10, fault: .stall(afterChunks: 2)), provider, timeouts: ChatTimeouts(connect: 5, firstByte: 5, idle: 0.3))
            #expect(events.count == 2)
            #expect(error == .timeout(.idle, seconds: 0.3))
            if sanitizer == nil { #expect(ContinuousClock.now - started < .seconds(3)) }
        }

        @Test(arguments: providers)
        func slowHeadersIsAFirstByteTimeout(provider: Upstream.Provider) async throws {
            let (events, error) = try await run(
                UpstreamScenario(headerDelay: .seconds(3)), provider, timeouts: ChatTimeouts(connect: 5, firstByte: 0.3, idle: 5))
            #expect(events.isEmpty)
            #expect(error == .timeout(.firstByte, seconds: 0.3))
        }

        @Test(arguments: providers)
        func malformedLineIsMalformedStreamCarryingTheLine(provider: Upstream.Provider) async throws {
            let (events, error) = try await run(.counting(5, fault: .malformedLine(afterChunks: 2)), provider)
            #expect(events.count == 2)
            guard case .malformedStream(let line, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(line.contains("oops"))
        }

        @Test(arguments: providers)
        func midStreamErrorIsProviderErrorWithTheMessage(provider: Upstream.Provider) async throws {
            let (events, error) = try await run(.counting(5, fault: .midStreamError(afterChunks: 4, message: "upstream overloaded")), provider)
            #expect(events.count == 4)
            guard case .providerError(let providerError)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(providerError.message == "upstream overloaded")
        }

        @Test(arguments: providers)
        func streamWithoutEndMarkerIsConnectionLost(provider: Upstream.Provider) async throws {
            let (events, error) = try await run(.counting(3, fault: .missingEndMarker), provider)
            #expect(events.count == 3)
            guard case .connectionLost? = error else { Issue.record("got \(String(describing: error))"); return }
        }

        @Test func refusedConnectionIsConnectFailed() async throws {
            let client = try ChatClient(configuration: .init(timeouts: testTimeouts))
            defer { client.shutdown() }
            let port = try unusedPort()
            let (_, error) = await collect(client.stream(request(model: "m"), to: Upstream(baseURL: "http://127.0.0.1:\(port)/v1")))
            guard case .connectFailed(let url, _)? = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(url == "http://127.0.0.1:\(port)/v1/chat/completions")
        }

        @Test func httpsToAPlainHTTPServerIsATLSError() async throws {
            try await withUpstream { upstream, client in
                let target = Upstream(baseURL: "https://127.0.0.1:\(upstream.port)/v1")
                let (_, error) = await collect(client.stream(request(model: "m"), to: target))
                guard case .tls? = error else { Issue.record("got \(String(describing: error))"); return }
            }
        }

        @Test func unansweredConnectIsAConnectTimeout() async throws {
            // A listener whose accept queue is full drops further SYNs, so connect() never completes.
            let listener = try FullListener()
            defer { listener.close() }
            let client = try ChatClient(configuration: .init(timeouts: ChatTimeouts(connect: 0.3, firstByte: 5, idle: 5)))
            defer { client.shutdown() }
            let started = ContinuousClock.now
            let (_, error) = await collect(client.stream(request(model: "m"), to: Upstream(baseURL: "http://127.0.0.1:\(listener.port)/v1")))
            #expect(error == .timeout(.connect, seconds: 0.3))
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }
}

/// A port nothing listens on: bind port 0, read the port, close.
func unusedPort() throws -> Int {
    let listener = try FullListener(fill: false)
    listener.close()
    return listener.port
}

/// A TCP listener on 127.0.0.1 with backlog 0 that never accepts; with `fill`, its accept queue
/// is filled by a few connections so later SYNs are dropped.
final class FullListener {
    let port: Int
    private let socketFD: Int32
    private var fillers: [Int32] = []

    init(fill: Bool = true) throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.socketFD = socketFD
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socketFD, 0) == 0 else {
            port = 0
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        guard fill else { return }
        for _ in 0..<4 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(filler)
        }
        usleep(50_000)
    }

    func close() {
        for filler in fillers { Glibc.close(filler) }
        fillers = []
        Glibc.close(socketFD)
    }
}
