import FuzzSupport
@testable import TokenMeterClient

// Fuzz target for the NDJSON framing (NDJSONDecoder) and Ollama's line format behind it
// (ChatStreamParser). Checks, for every input:
//  1. fed whole or in fuzzer-chosen chunks, the decoder returns the same lines (or both throw);
//  2. those lines equal a plain split on LF (CR before LF dropped, blank lines skipped, a last
//     line without LF kept by `finish`);
//  3. the chat-stream parser never traps on any bytes, whole or chunked.

private let maxLineBytes = 200

private func referenceLines(_ stream: [UInt8]) -> (lines: [[UInt8]], tooLong: Bool) {
    var lines: [[UInt8]] = []
    for var line in stream.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init) {
        if line.count > maxLineBytes { return ([], true) }
        if line.last == 0x0D { line.removeLast() }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
        lines.append(line)
    }
    return (lines, false)
}

private func decode(_ chunks: [ArraySlice<UInt8>]) -> [[UInt8]]? {
    var decoder = NDJSONDecoder(maxLineBytes: maxLineBytes)
    var lines: [[UInt8]] = []
    for chunk in chunks {
        guard let more = try? decoder.feed(Array(chunk)) else { return nil }
        lines += more
    }
    return lines + decoder.finish()
}

private func fuzzNDJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard let input = FuzzInput(data, size) else { return 0 }

    let whole = decode([input.payload[...]])
    let chunked = decode(input.chunks)
    fuzzCheck(whole == chunked, "whole \(String(describing: whole)) != chunked \(String(describing: chunked))")

    let reference = referenceLines(input.payload)
    if reference.tooLong {
        fuzzCheck(whole == nil, "reference refuses a too-long line, decoder returned \(whole!)")
    } else {
        fuzzCheck(whole == reference.lines, "decoder \(String(describing: whole)) != reference \(reference.lines)")
    }

    var parser = ChatStreamParser(provider: .ollama)
    for chunk in input.chunks {
        let ok = Array(chunk).withUnsafeBytes { buffer in (try? parser.parse(buffer)) != nil }
        if !ok { break }
    }
    _ = try? parser.finish()
    return 0
}

runFuzzer { fuzzNDJSON($0, $1) }
