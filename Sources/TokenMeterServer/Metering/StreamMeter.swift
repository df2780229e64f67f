import TokenMeterTokenizer

/// Counts a stream's completion tokens as deltas arrive and enforces the budget's allowance to the token.
///
/// Every visible piece of output (content, refusal, reasoning, tool-call names and arguments) goes through
/// one ``IncrementalCounter``, so after each delta ``tokens`` equals `encoding.count(text)` exactly. When a
/// delta would take the total past ``limit``, the meter keeps the longest prefix of the text that still
/// fits: it encodes the whole text including the delta, keeps the first `limit` token ids, decodes them,
/// backs off to a UTF-8 character boundary, and re-counts that prefix (a cut piece can tokenize
/// differently), stepping down a token at a time until it fits. Only text that extends what was already
/// delivered is handed out.
///
/// One meter belongs to one stream and one task (it holds an `IncrementalCounter`).
struct StreamMeter {
    /// What may be delivered of the next delta.
    enum Admission: Equatable {
        /// All of it.
        case all
        /// Only this prefix of it (possibly empty); the stream must end here.
        case prefix(String)
    }

    /// The encoding the model's completion is counted in.
    let encoding: Encoding
    /// Most completion tokens the budget (or per-request cap) pays for.
    let limit: Int
    private var counter: IncrementalCounter
    /// All metered text admitted so far, in order.
    private(set) var text = ""
    /// Exact tokens of ``text`` (after a cut: of the delivered prefix).
    private(set) var tokens = 0
    /// Whether the limit has been reached and the stream must end.
    private(set) var isExhausted = false

    /// A meter allowing `limit` completion tokens in `encoding`.
    init(encoding: Encoding, limit: Int) {
        self.encoding = encoding
        self.limit = limit
        counter = IncrementalCounter(encoding: encoding)
    }

    /// Meters `piece`. `trimmable` says whether part of it may be delivered (plain content) or only all
    /// or nothing (a tool-call fragment). After a `.prefix` answer the meter accepts nothing more.
    mutating func admit(_ piece: String, trimmable: Bool) -> Admission {
        precondition(!isExhausted, "a StreamMeter admits nothing after its limit was reached")
        if piece.isEmpty { return .all }
        let total = counter.append(piece)
        if total <= limit {
            text += piece
            tokens = total
            return .all
        }
        isExhausted = true
        guard trimmable, let kept = affordablePrefix(of: text + piece), kept.utf8.count > text.utf8.count,
              kept.utf8.starts(with: text.utf8)
        else { return .prefix("") }
        let extra = String(decoding: kept.utf8.dropFirst(text.utf8.count), as: UTF8.self)
        text = kept
        tokens = encoding.count(kept)
        return .prefix(extra)
    }

    /// The longest prefix of `whole` made of its first tokens whose own count is within ``limit``.
    private func affordablePrefix(of whole: String) -> String? {
        let ids = encoding.encode(whole)
        var keep = min(limit, ids.count)
        while keep > 0 {
            guard var bytes = try? encoding.decode(Array(ids[..<keep])) else { return nil }
            while !bytes.isEmpty, !isCompleteUTF8(bytes) { bytes.removeLast() }
            let candidate = String(decoding: bytes, as: UTF8.self)
            if encoding.count(candidate) <= limit { return candidate }
            keep -= 1
        }
        return nil
    }

    /// Whether `bytes` ends on a character boundary (it is assumed valid up to a possibly cut last character).
    private func isCompleteUTF8(_ bytes: [UInt8]) -> Bool {
        // Walk back over continuation bytes to the lead byte of the last character.
        var i = bytes.count - 1
        var continuation = 0
        while i >= 0, bytes[i] & 0xC0 == 0x80 { continuation += 1; i -= 1 }
        guard i >= 0 else { return false }
        let lead = bytes[i]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        return length == continuation + 1
    }
}
