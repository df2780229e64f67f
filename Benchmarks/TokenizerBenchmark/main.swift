// Tokenizer benchmark (run by Benchmarks/tokenizer.sh; numbers go to BENCHMARKS.md).
//
//   tokenizer-bench throughput FILE   encode / count / regex-only MB/s per encoding, best of 5 runs
//   tokenizer-bench incremental FILE [TOKENS] [--no-verify] [--encoding E]
//                                     IncrementalCounter over ~1-token deltas vs one batch count
//   tokenizer-bench files DIR         count of each *.txt in DIR: the first call in the process (for a long
//                                     piece it reads the merge tree), then the best of 5
import Foundation
@_spi(Benchmark) import TokenMeterTokenizer

func bestSeconds(_ runs: Int = 5, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

func throughput(_ path: String) throws {
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    let mb = Double(bytes.count) / 1e6
    for name in [EncodingName.cl100k_base, .o200k_base] {
        let enc = try Encoding.named(name)
        var ids: [Int] = [], count = 0, pieces = 0
        bytes.withUnsafeBufferPointer { b in
            let tEncode = bestSeconds { ids = enc.encode(utf8: b) }
            let tCount = bestSeconds { count = enc.count(utf8: b) }
            let tRegex = bestSeconds { pieces = enc.countPieces(utf8: b) }
            precondition(count == ids.count, "count and encode disagree")
            print(String(format: "tokenmeter %@ tokens=%d pieces=%d encode %.1f MB/s  count %.1f MB/s  regex-only %.1f MB/s",
                         name.rawValue, count, pieces, mb / tEncode, mb / tCount, mb / tRegex))
        }
    }
}

func incremental(_ path: String, tokens: Int, verify: Bool = true, encoding: EncodingName = .o200k_base) throws {
    let enc = try Encoding.named(encoding)
    var all = Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(tokens * 16))
    while let last = all.last, last & 0xC0 == 0x80 { all.removeLast() }  // whole characters only
    if let last = all.last, last >= 0xC0 { all.removeLast() }
    let ids = Array(all.withUnsafeBufferPointer { enc.encode(utf8: $0) }.prefix(tokens))
    // ~1-token deltas: the bytes of each token, as a provider streams them (a delta may end inside
    // a UTF-8 character; the counter holds those bytes until the character is complete).
    var deltas = try ids.map { try enc.decode([$0]) }
    // End on a whole character (the last token may hold only the first bytes of one).
    while let lead = deltas.flatMap({ $0 }).last(where: { $0 & 0xC0 != 0x80 }), lead >= 0xC0,
          String(validating: deltas.flatMap { $0 }, as: UTF8.self) == nil {
        deltas.removeLast()
    }
    let text = deltas.flatMap { $0 }
    // Delta boundaries in `text`, so feeding a delta is a pointer slice (as a stream client hands the
    // counter bytes it already holds), not an array per delta.
    var ends: [Int] = []
    ends.reserveCapacity(deltas.count)
    for d in deltas { ends.append((ends.last ?? 0) + d.count) }
    func feed(_ counter: inout IncrementalCounter, into totals: inout [Int]) {
        text.withUnsafeBufferPointer { all in
            var from = 0
            for end in ends {
                totals.append((try? counter.append(utf8: UnsafeBufferPointer(rebasing: all[from..<end]))) ?? -1)
                from = end
            }
        }
    }
    if let phase = ProcessInfo.processInfo.environment["TOKENIZER_BENCH_PHASE"] {
        // One phase alone, 200 times, for `perf stat` (instruction counts are steadier than time on
        // a shared machine).
        var sink = 0
        for _ in 0..<200 {
            if phase == "batch" {
                sink &+= text.withUnsafeBufferPointer { enc.count(utf8: $0) }
            } else {
                var counter = IncrementalCounter(encoding: enc)
                var totals: [Int] = []
                totals.reserveCapacity(ends.count)
                feed(&counter, into: &totals)
                sink &+= totals.last ?? 0
            }
        }
        print(phase, sink)
        return
    }
    let batch = bestSeconds(verify ? 5 : 200) { _ = text.withUnsafeBufferPointer { enc.count(utf8: $0) } }
    var totals: [Int] = []
    let streamed = bestSeconds(verify ? 5 : 200) {
        var counter = IncrementalCounter(encoding: enc)
        totals.removeAll(keepingCapacity: true)
        feed(&counter, into: &totals)
    }
    // Exactness at every step (outside the timing): each total equals a batch count of the
    // complete characters received so far.
    var offset = 0, mismatches = 0
    for (i, d) in deltas.enumerated() where verify {
        offset += d.count
        var complete = offset
        while complete < text.count && complete > 0 && (text[complete] & 0xC0) == 0x80 { complete -= 1 }
        let expected = text.withUnsafeBufferPointer { enc.count(utf8: UnsafeBufferPointer(rebasing: $0[..<complete])) }
        if totals[i] != expected {
            if mismatches == 0 {
                let context = String(decoding: text[max(0, complete - 40)..<complete], as: UTF8.self)
                FileHandle.standardError.write(Data("first mismatch after delta \(i) (byte \(complete)): \(totals[i]) vs \(expected); text ends \(context.debugDescription)\n".utf8))
            }
            mismatches += 1
        }
    }
    print(String(format: "incremental %@ tokens=%d deltas=%d bytes=%d batch %.3f ms  incremental %.3f ms  ratio %.2fx  mismatches=%d",
                 encoding.rawValue, ids.count, deltas.count, text.count, batch * 1e3, streamed * 1e3, streamed / batch, mismatches))
}

/// `count` on each file of a directory: corpus parts, and texts that are one huge pre-tokenizer piece (1 MB of
/// one letter, of spaces). The first call of a process reads the vocabulary's merge tree when a piece is long,
/// so it is reported apart from the best of 5.
func files(_ directory: String) throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".txt") }.sorted()
    for name in [EncodingName.cl100k_base, .o200k_base] {
        let enc = try Encoding.named(name)
        for file in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
            bytes.withUnsafeBufferPointer { b in
                var count = 0
                let first = bestSeconds(1) { count = enc.count(utf8: b) }
                let best = bestSeconds(5) { count = enc.count(utf8: b) }
                print(String(format: "tokenmeter %@ %@ bytes=%d tokens=%d first %.1f ms  best %.1f ms",
                             name.rawValue, file, bytes.count, count, first * 1e3, best * 1e3))
            }
        }
    }
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: tokenizer-bench throughput|incremental FILE\n".utf8))
    exit(64)
}
switch args[1] {
case "throughput": try throughput(args[2])
case "files": try files(args[2])
case "incremental":
    let encoding = args.firstIndex(of: "--encoding").flatMap { EncodingName(rawValue: args[$0 + 1]) } ?? .o200k_base
    try incremental(args[2], tokens: args.count > 3 ? Int(args[3]) ?? 20_000 : 20_000, verify: !args.contains("--no-verify"),
                    encoding: encoding)
default: exit(64)
}
