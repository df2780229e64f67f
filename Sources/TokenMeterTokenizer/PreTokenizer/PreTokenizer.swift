import CPCRE2

/// A pre-tokenization pattern compiled once with PCRE2 and its JIT, shared by every task.
///
/// Compile options mirror the semantics of tiktoken's regex engine (Rust `fancy-regex`):
/// `PCRE2_UTF` + `PCRE2_UCP` make `\s`, `\p{..}` and `(?i:..)` Unicode-aware, and
/// `PCRE2_DOLLAR_ENDONLY` makes `$` match only at the very end of the text (Rust's `$`), never before
/// a final newline. The pattern is JIT-compiled for complete matches and for hard partial matches;
/// the latter lets `IncrementalCounter` tell which pieces can no longer change when more text comes.
final class PreTokenizer: @unchecked Sendable {
    // @unchecked Sendable: `code` is written once in init and only read afterwards; PCRE2 documents
    // compiled (and JIT-compiled) patterns as safe for simultaneous matching from many threads. All
    // per-match mutable state lives in `PieceMatcher`, which is never shared.
    let code: OpaquePointer

    init(pattern: String) throws(TokenizerError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options = UInt32(PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY)
        var pattern = pattern
        let compiled = pattern.withUTF8 { p in
            pcre2_compile_8(p.baseAddress, p.count, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw .regex("pattern does not compile at offset \(errorOffset): \(Self.message(for: errorCode))")
        }
        let jit = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD))
        guard jit == 0 else {
            pcre2_code_free_8(compiled)
            throw .regex("JIT compilation failed: \(Self.message(for: jit))")
        }
        code = compiled
    }

    deinit { pcre2_code_free_8(code) }

    static func message(for errorCode: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[..<Int(n)], as: UTF8.self) : "PCRE2 error \(errorCode)"
    }
}

/// The outcome of one match attempt.
enum PieceMatch {
    /// A complete piece `start..<end` (byte offsets into the subject).
    case piece(start: Int, end: Int)
    /// Hard partial match: the engine reached the end of the text, so more text could change the
    /// piece that starts at `start`.
    case partial(start: Int)
    /// No further piece in the text.
    case none
}

/// Per-task matching state: PCRE2 match data and, only if a match ever needs it, a larger JIT stack.
/// Not shareable; each encode call or incremental counter owns one.
final class PieceMatcher {
    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private var matchContext: OpaquePointer?
    private var jitStack: OpaquePointer?

    init(_ preTokenizer: PreTokenizer) {
        code = preTokenizer.code
        guard let md = pcre2_match_data_create_8(1, nil) else { fatalError("out of memory (PCRE2 match data)") }
        matchData = md
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        if let matchContext { pcre2_match_context_free_8(matchContext) }
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// Finds the next piece at or after `offset` in `subject[0..<count]`, which must be valid UTF-8
    /// (the JIT fast path does not re-check it). With `partial`, a piece whose matching reached the end
    /// of the text is reported as `.partial`.
    @inline(__always)
    func next(in subject: UnsafePointer<UInt8>, count: Int, from offset: Int, partial: Bool = false) -> PieceMatch {
        let options: UInt32 = partial ? UInt32(PCRE2_PARTIAL_HARD) : 0
        while true {
            let rc = pcre2_jit_match_8(code, subject, count, offset, options, matchData, matchContext)
            let ovector = pcre2_get_ovector_pointer_8(matchData)!
            if rc > 0 { return .piece(start: ovector[0], end: ovector[1]) }
            switch rc {
            case PCRE2_ERROR_NOMATCH: return .none
            case PCRE2_ERROR_PARTIAL: return .partial(start: ovector[0])
            case PCRE2_ERROR_JIT_STACKLIMIT where jitStack == nil:
                growStack()  // then retry the same match with a 64 MiB ceiling
            default:
                // Only a bug (or memory exhaustion) gets here: the patterns are fixed and the input valid.
                fatalError("PCRE2 match failed: \(PreTokenizer.message(for: rc))")
            }
        }
    }

    private func growStack() {
        guard let stack = pcre2_jit_stack_create_8(256 * 1024, 64 * 1024 * 1024, nil),
              let context = pcre2_match_context_create_8(nil) else { fatalError("out of memory (PCRE2 JIT stack)") }
        pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(stack))
        jitStack = stack
        matchContext = context
    }
}
