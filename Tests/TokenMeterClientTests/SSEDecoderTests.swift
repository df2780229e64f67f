import Testing
import TokenMeterTestSupport
@testable import TokenMeterClient

@Suite struct SSEDecoderTests {
    func decode(_ chunks: [[UInt8]]) throws -> [SSEEvent] {
        var decoder = SSEDecoder()
        return try chunks.flatMap { try decoder.feed($0) }
    }

    func decode(_ text: String) throws -> [SSEEvent] { try decode([Array(text.utf8)]) }

    // The next four inputs are the examples of the WHATWG HTML spec, §9.2.6 "Interpreting an event stream".

    @Test func multiLineDataJoinsWithLineFeeds() throws {
        let events = try decode("data: YHOO\ndata: +2\ndata: 10\n\n")
        #expect(events.map(\.text) == ["YHOO\n+2\n10"])
        #expect(events.map(\.type) == ["message"])
    }

    @Test func commentsIdsAndTheOptionalSpaceFollowTheSpec() throws {
        let events = try decode(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n")
        #expect(events.map(\.text) == ["first event", "second event", " third event"])
        #expect(events.map(\.lastEventID) == ["1", "", ""])
    }

    @Test func emptyDataLinesDispatchAndAnUnfinishedEventIsDropped() throws {
        let events = try decode("data\n\ndata\ndata\n\ndata:")
        #expect(events.map(\.text) == ["", "\n"])
    }

    @Test func spaceAfterColonIsOptional() throws {
        #expect(try decode("data:test\n\ndata: test\n\n").map(\.text) == ["test", "test"])
    }

    @Test func crAndCrlfAndLfAllEndLines() throws {
        let events = try decode("data: a\r\rdata: b\r\n\r\ndata: c\n\nevent: add\rdata: d\r\n\n")
        #expect(events.map(\.text) == ["a", "b", "c", "d"])
        #expect(events.map(\.type) == ["message", "message", "message", "add"])
    }

    @Test func oneLeadingByteOrderMarkIsIgnored() throws {
        let events = try decode([[0xEF, 0xBB, 0xBF] + Array("data: x\n\ndata: \u{FEFF}y\n\n".utf8)])
        #expect(events.map(\.text) == ["x", "\u{FEFF}y"])
    }

    @Test func keepAliveCommentsProduceNothing() throws {
        #expect(try decode(": ping\n\n:\n\n: keep-alive\r\n\r\n").isEmpty)
    }

    @Test func doneMarkerIsAnOrdinaryEvent() throws {
        #expect(try decode("data: {\"a\":1}\n\ndata: [DONE]\n\n").map(\.text) == ["{\"a\":1}", "[DONE]"])
    }

    /// A stream exercising every tricky case: BOM, multi-byte UTF-8 (2, 3 and 4 bytes), CRLF,
    /// lone CR, comments, multi-line data, event and id fields.
    static let tricky: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(
        "data: {\"content\":\"héllo wörld\"}\r\n\r\n: keep-alive\r\ndata: €uro\rdata: 👋🏽 waves\r\rid: 7\nevent: delta\ndata: 日本語\n\ndata: [DONE]\r\n\r\n".utf8)

    @Test func everySplitIntoThreePiecesGivesTheSameEvents() throws {
        let whole = try decode([Self.tricky])
        #expect(whole.map(\.text) == ["{\"content\":\"héllo wörld\"}", "€uro\n👋🏽 waves", "日本語", "[DONE]"])
        #expect(whole.map(\.type) == ["message", "message", "delta", "message"])
        #expect(whole.map(\.lastEventID) == ["", "", "7", "7"])
        let bytes = Self.tricky
        for first in 0...bytes.count {
            for second in first...bytes.count {
                let pieces = [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])]
                let events = try decode(pieces)
                if events != whole {
                    Issue.record("split at \(first), \(second) gave \(events.map(\.text))")
                    return
                }
            }
        }
    }

    @Test func randomSplitsGiveTheSameEvents() throws {
        var generator = SeededGenerator(seed: 0x5EED)
        let bytes = Array(repeating: Self.tricky, count: 20).flatMap { $0 }
        let whole = try decode([bytes])
        for _ in 0..<500 {
            let events = try decode(randomPieces(of: bytes, using: &generator))
            #expect(events == whole)
        }
    }

    @Test func aLineLongerThanTheLimitIsAnError() {
        var decoder = SSEDecoder(maxLineBytes: 16)
        #expect(throws: SSEDecoder.LineTooLong.self) { try decoder.feed(Array("data: 0123456789abcdef\n\n".utf8)) }
    }
}

/// Cuts `bytes` into pieces of random length (0 to 17 bytes).
func randomPieces(of bytes: [UInt8], using generator: inout SeededGenerator) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    var index = 0
    while index < bytes.count {
        let length = min(Int(generator.next() % 18), bytes.count - index)
        pieces.append(Array(bytes[index..<(index + length)]))
        index += length
    }
    return pieces
}
