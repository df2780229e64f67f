import Testing
@testable import TokenMeterServer

extension ServerTests {
    @Suite("Request ids")
    struct RequestIDTests {
        @Test("a request id is chatcmpl-tm and 32 lowercase hex digits, and 10,000 of them are all different")
        func format() throws {
            let ids = (0..<10_000).map { _ in RequestIDMiddleware.newRequestID() }
            let shape = try Regex("^chatcmpl-tm[0-9a-f]{32}$")
            for id in ids { #expect(id.wholeMatch(of: shape) != nil, "\(id)") }
            #expect(Set(ids).count == ids.count)
            // Every hex digit turns up in every position over 10,000 ids (none is fixed, unlike a UUID's version).
            for position in 0..<32 {
                let digits = Set(ids.map { $0.utf8[$0.utf8.index($0.utf8.startIndex, offsetBy: 11 + position)] })
                #expect(digits.count == 16, "position \(position)")
            }
        }
    }
}
