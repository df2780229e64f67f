import TokenMeterCatalog
import TokenMeterTokenizer

/// Counts a stream's completion tokens as deltas arrive and enforces the budget's allowance to the token.
///
/// The allowance is the output the stream's hold covers. While the hold can still grow (``limitIsFinal`` is
/// false), a delta that would pass it is not cut: the meter answers `.needs(total)` and keeps the delta
/// pending until ``resume(limit:final:)`` says how far the hold grew.
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
        /// None of it yet: the stream's output would come to `total` tokens, past the limit, which may still
        /// grow. Call ``resume(limit:final:)`` with the limit the hold grew to.
        case needs(Int)
    }

    /// The encoding the model's completion is counted in.
    let encoding: Encoding
    /// For a model counted with a stand-in encoding, how much more (percent) its own tokenizer may count:
    /// every count the meter reports and checks is the stand-in's raised by it (``CatalogModel/localCount(_:)``),
    /// so that the cut keeps the provider's count within the limit.
    let marginPercent: Int
    /// Most completion tokens the stream's hold pays for now.
    private(set) var limit: Int
    /// Whether ``limit`` can no longer grow, so a delta past it is cut rather than kept waiting.
    private(set) var limitIsFinal: Bool
    /// A delta that passed ``limit`` while it could still grow: its text, whether it may be trimmed, and the
    /// total it brings the count to (the counter has taken it already).
    private var pending: (piece: String, trimmable: Bool, total: Int)?
    private var counter: IncrementalCounter
    /// All metered text admitted so far, in order.
    private(set) var text = ""
    /// Exact tokens of ``text`` (after a cut: of the delivered prefix).
    private(set) var tokens = 0
    /// Whether the limit has been reached and the stream must end.
    private(set) var isExhausted = false

    /// A meter allowing `limit` completion tokens in `encoding` (raised by `marginPercent`); `final: false` when
    /// the limit may grow.
    init(encoding: Encoding, limit: Int, final: Bool = true, marginPercent: Int = 0) {
        self.encoding = encoding
        self.marginPercent = marginPercent
        self.limit = limit
        limitIsFinal = final
        counter = IncrementalCounter(encoding: encoding)
    }

    /// Raises the limit to `newLimit` (a hold that grew in the background); never lowers it.
    mutating func raise(to newLimit: Int) {
        limit = max(limit, newLimit)
    }

    /// Meters `piece`. `trimmable` says whether part of it may be delivered (plain content) or only all
    /// or nothing (a tool-call fragment). After a `.prefix` answer the meter accepts nothing more.
    mutating func admit(_ piece: String, trimmable: Bool) -> Admission {
        precondition(!isExhausted, "a StreamMeter admits nothing after its limit was reached")
        precondition(pending == nil, "a StreamMeter admits nothing while a delta waits for its hold")
        if piece.isEmpty { return .all }
        let total = CatalogModel.raise(counter.append(piece), byPercent: marginPercent)
        if total <= limit {
            text += piece
            tokens = total
            return .all
        }
        guard limitIsFinal else {
            pending = (piece, trimmable, total)
            return .needs(total)
        }
        return cut(piece, trimmable: trimmable)
    }

    /// Decides the pending delta (after a `.needs` answer) with the limit the hold grew to: all of it when it
    /// fits, `.needs` again when it does not and the limit may still grow, else the prefix that fits.
    mutating func resume(limit newLimit: Int, final: Bool) -> Admission {
        guard let (piece, trimmable, total) = pending else { preconditionFailure("no delta waits for its hold") }
        raise(to: newLimit)
        limitIsFinal = final
        if total <= limit {
            pending = nil
            text += piece
            tokens = total
            return .all
        }
        guard final else { return .needs(total) }
        pending = nil
        return cut(piece, trimmable: trimmable)
    }

    /// Ends the stream at the limit: delivers what of `piece` still fits (nothing of an untrimmable one).
    private mutating func cut(_ piece: String, trimmable: Bool) -> Admission {
        isExhausted = true
        guard trimmable, let kept = affordablePrefix(of: text + piece), kept.utf8.count > text.utf8.count,
              kept.utf8.starts(with: text.utf8)
        else { return .prefix("") }
        let extra = String(decoding: kept.utf8.dropFirst(text.utf8.count), as: UTF8.self)
        text = kept
        tokens = CatalogModel.raise(encoding.count(kept), byPercent: marginPercent)
        return .prefix(extra)
    }

    /// The longest prefix of `whole` made of its first tokens whose own count is within ``limit``.
    private func affordablePrefix(of whole: String) -> String? {
        let ids = encoding.encode(whole)
        // With a margin, `limit` raised tokens are about limit × 100 / (100 + margin) counted ones: start there
        // (without overflow), then step down to the first whose raised count fits.
        let base = 100 + marginPercent
        var keep = min(ids.count, limit / base * 100 + limit % base * 100 / base + 1)
        while keep > 0, CatalogModel.raise(keep, byPercent: marginPercent) > limit { keep -= 1 }
        while keep > 0 {
            guard var bytes = try? encoding.decode(Array(ids[..<keep])) else { return nil }
            while !bytes.isEmpty, !isCompleteUTF8(bytes) { bytes.removeLast() }
            let candidate = String(decoding: bytes, as: UTF8.self)
            if CatalogModel.raise(encoding.count(candidate), byPercent: marginPercent) <= limit { return candidate }
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
