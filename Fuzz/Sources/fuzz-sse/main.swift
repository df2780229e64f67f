import FuzzSupport
@testable import TokenMeterClient

// Fuzz target for the SSE framing (SSEDecoder) and the OpenAI chunk parsing behind it
// (ChatStreamParser). Checks, for every input:
//  1. fed whole or in fuzzer-chosen chunks, the decoder returns the same events (or both throw);
//  2. those events equal a direct, non-incremental reading of the WHATWG event-stream rules below;
//  3. the chat-stream parser never traps on any bytes, whole or chunked.
// A small `maxLineBytes` puts the line-length limit within the fuzzer's reach.

private let maxLineBytes = 200

/// The WHATWG "interpret an event stream" algorithm over a complete byte string, written plainly:
/// split into lines (CRLF, LF, CR), drop a trailing unterminated line, process each line.
private func referenceEvents(_ stream: [UInt8]) -> (events: [SSEEvent], tooLong: Bool) {
    let bytes = stream[...]
    var lines: [ArraySlice<UInt8>] = []
    var lineStart = bytes.startIndex
    var i = bytes.startIndex
    while i < bytes.endIndex {
        let b = bytes[i]
        if b == 0x0A || b == 0x0D {
            lines.append(bytes[lineStart..<i])
            if b == 0x0D, i + 1 < bytes.endIndex, bytes[i + 1] == 0x0A { i += 1 }
            lineStart = i + 1
        }
        i += 1
    }
    // The incremental decoder also refuses an unterminated last line once it is too long.
    let tail = bytes.endIndex - lineStart
    var events: [SSEEvent] = []
    var data: [UInt8] = [], type = "", lastID = "", hasData = false
    for (number, rawLine) in lines.enumerated() {
        if rawLine.count > maxLineBytes { return ([], true) }
        // One byte order mark at the very start of the stream is not part of the first line.
        let line = number == 0 && rawLine.starts(with: [0xEF, 0xBB, 0xBF]) ? rawLine.dropFirst(3) : rawLine
        if line.isEmpty {
            if hasData {
                data.removeLast()
                events.append(SSEEvent(type: type.isEmpty ? "message" : type, data: data, lastEventID: lastID))
            }
            data = []; type = ""; hasData = false
            continue
        }
        if line.first == 0x3A { continue }
        let colon = line.firstIndex(of: 0x3A) ?? line.endIndex
        var value = line[colon...].dropFirst()
        if value.first == 0x20 { value = value.dropFirst() }
        switch String(decoding: line[..<colon], as: UTF8.self) {
        case "data":
            data += value + [0x0A]
            hasData = true
            if data.count > maxLineBytes { return ([], true) }
        case "event": type = String(decoding: value, as: UTF8.self)
        case "id": if !value.contains(0) { lastID = String(decoding: value, as: UTF8.self) }
        default: break
        }
    }
    return (events, tail > maxLineBytes)
}

private func fuzzSSE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard let input = FuzzInput(data, size) else { return 0 }

    var whole = SSEDecoder(maxLineBytes: maxLineBytes)
    let wholeEvents = try? whole.feed(input.payload)

    var chunked = SSEDecoder(maxLineBytes: maxLineBytes)
    var chunkedEvents: [SSEEvent]? = []
    for chunk in input.chunks {
        do { chunkedEvents! += try chunked.feed(Array(chunk)) } catch { chunkedEvents = nil; break }
    }
    fuzzCheck(wholeEvents == chunkedEvents, "whole \(String(describing: wholeEvents)) != chunked \(String(describing: chunkedEvents))")

    let reference = referenceEvents(input.payload)
    if reference.tooLong {
        fuzzCheck(wholeEvents == nil, "reference refuses a too-long line, decoder returned \(wholeEvents!)")
    } else {
        fuzzCheck(wholeEvents == reference.events, "decoder \(String(describing: wholeEvents)) != reference \(reference.events)")
    }

    // The parser the client runs on every OpenAI-compatible response body: errors are fine, traps are not.
    var parser = ChatStreamParser(provider: .openAICompatible)
    for chunk in input.chunks {
        let ok = Array(chunk).withUnsafeBytes { buffer in (try? parser.parse(buffer)) != nil }
        if !ok { break }
    }
    _ = try? parser.finish()
    return 0
}

runFuzzer { fuzzSSE($0, $1) }
