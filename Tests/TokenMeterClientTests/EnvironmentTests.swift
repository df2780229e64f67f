import Foundation
import Testing
import TokenMeterClient
import TokenMeterSimulatedUpstream
import TokenMeterTestSupport

extension NetworkTests {
    @Suite struct Environment {
        /// curl's own proxy handling applies: with `http_proxy` set, the request goes to the proxy
        /// with an absolute URI. The environment is the whole test process's: the network suite is
        /// serialized, and the exclusive hold of the process gate keeps the server and crash tests (the
        /// other users of in-process clients and curl subprocesses) from running meanwhile; once, under
        /// ThreadSanitizer, the crash test's curl went to this proxy and read a wrong answer.
        @Test func httpProxyFromTheEnvironmentIsUsed() async throws {
            try await ProcessResourceGate.shared.exclusive { try await withUpstream { upstream, client in
                let saved = ["http_proxy", "no_proxy", "NO_PROXY"].map { ($0, ProcessInfo.processInfo.environment[$0]) }
                setenv("http_proxy", upstream.baseURL, 1)
                unsetenv("no_proxy")
                unsetenv("NO_PROXY")
                defer {
                    for (name, value) in saved {
                        if let value { setenv(name, value, 1) } else { unsetenv(name) }
                    }
                }
                upstream.setScenario(.counting(2), forModel: "m")
                let target = Upstream(baseURL: "http://upstream.invalid/v1")
                let (events, error) = await collect(client.stream(request(model: "m"), to: target))
                #expect(error == nil)
                #expect(events.compactMap(\.content).joined() == "t0 t1 ")
                #expect(upstream.records.first?.path == "http://upstream.invalid/v1/chat/completions")
            } }
        }
    }
}
