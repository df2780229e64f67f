import CLibFuzzer
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// One fuzzer input split into a small header (fuzzer-chosen knobs such as where to cut a stream)
/// and the payload the parser sees.
public struct FuzzInput {
    /// The payload bytes, after the header.
    public let payload: [UInt8]
    /// The header byte that seeds the split schedule.
    public let splitSeed: UInt8

    /// Takes the first byte as the split seed and the rest as the payload; nil for an empty input.
    public init?(_ data: UnsafePointer<UInt8>, _ size: Int) {
        guard size > 0 else { return nil }
        splitSeed = data[0]
        payload = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    }

    /// Cut points that split `payload` into chunks of 1 to `splitSeed % 17 + 1` bytes (seed 0: one
    /// byte at a time), chosen by a xorshift generator seeded with `splitSeed`, so the fuzzer
    /// controls the schedule and a crash replays exactly. Increasing, each in `1..<payload.count`.
    public var cuts: [Int] {
        let longest = Int(splitSeed % 17) + 1
        var state = UInt32(splitSeed) &* 2_654_435_761 | 1
        var cuts: [Int] = []
        var at = 0
        while true {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            at += Int(state % UInt32(longest)) + 1
            guard at < payload.count else { return cuts }
            cuts.append(at)
        }
    }

    /// `payload` cut at `cuts`, in order; empty chunks never occur.
    public var chunks: [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var from = 0
        for cut in cuts + [payload.count] where cut > from {
            chunks.append(payload[from..<cut])
            from = cut
        }
        return chunks
    }
}

/// Stops the fuzzer with a message when an invariant fails (libFuzzer records the input as a crash).
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz invariant failed: \(message())", file: file, line: line) }
}

/// Hands control to libFuzzer with this process's arguments (libFuzzer flags, corpus directories or
/// inputs to replay) and exits with its status. Each fuzz target's `main.swift` calls it: SwiftPM
/// gives every executable its own `main`, so libFuzzer's `main` cannot be the one linked.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
