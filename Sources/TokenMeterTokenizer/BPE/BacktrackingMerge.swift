/// BPE of a long piece in about linear time, with the same result as the merge loop (tiktoken's
/// `byte_pair_merge`), built on one property: a token sequence is the BPE encoding of its bytes exactly when
/// every two neighbours would stay apart if encoded alone (``MergeTree/canFollow(_:_:)``). So instead of
/// merging pairs by rank (a heap over the whole piece, O(n log n) with a large constant: 0.25 s for 1 MB of one
/// letter), it walks the piece left to right taking the longest token that can follow the previous one, tries
/// shorter ones when none can, and backs off a token when no token at all can follow. A position found to be
/// a dead end is marked and never tried again: the valid encoding of the text before it is unique, so a second
/// arrival there would fail the same way. Each position is entered a bounded number of times in practice, and
/// each step is a few table probes.
///
/// The idea is that of the backtracking encoder in GitHub's `bpe` crate (rust-gems); `BytePairMergeTests`
/// check it against the merge loop on random and repetitive pieces, and the golden corpus against tiktoken.
enum BacktrackingMerge {
    /// Calls `emit(rank, end)` for each token of `piece[0..<n]` (n ≥ 2), left to right; false (having emitted
    /// nothing) when `tree` cannot encode the piece, which the property above rules out.
    @inline(__always)
    static func encode(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable, _ tree: MergeTree,
                       _ emit: (UInt32, Int) -> Void) -> Bool {
        var ranks: [UInt32] = []
        var starts: [Int32] = []
        ranks.reserveCapacity(n / 3 + 16)
        starts.reserveCapacity(n / 3 + 16)
        var dead = [UInt64](repeating: 0, count: (n >> 6) + 1)

        /// The longest reachable token at `pos` of at most `limit` bytes (a single byte always is one).
        @inline(__always) func longest(_ pos: Int, _ limit: Int) -> (rank: UInt32, length: Int) {
            var most = min(limit, n - pos)
            // Lengths no reachable token here can have are skipped without a table probe each (MergeTree's prefix
            // set): the shortest prefix of the next bytes that no such token has caps the length.
            if most >= 3 {
                var prefix = UInt64(piece[pos]) | UInt64(piece[pos + 1]) << 8
                for length in 3...min(most, 8) {
                    prefix |= UInt64(piece[pos + length - 1]) << UInt64(8 * (length - 1))
                    if !tree.mayBegin(prefix, length: length) {
                        most = length - 1
                        break
                    }
                }
            }
            if most >= 2 {
                let k = Int(piece[pos]) << 8 | Int(piece[pos + 1])
                var i = Int(tree.lengthStart[k])
                let end = Int(tree.lengthStart[k + 1])
                while i < end {
                    let length = Int(tree.lengths[i])
                    i += 1
                    if length > most { continue }
                    let r = table.rank(piece + pos, length)
                    if r != .max && tree.isReachable(r) { return (r, length) }
                }
            }
            return (table.rank(piece + pos, 1), 1)
        }

        var pos = 0
        var candidate: (rank: UInt32, length: Int)? = longest(0, n)
        while true {
            if let (rank, length) = candidate {
                let end = pos + length
                let open = dead[end >> 6] & (1 << UInt64(end & 63)) == 0
                if open && (ranks.isEmpty || tree.canFollow(ranks[ranks.count - 1], rank)) {
                    ranks.append(rank)
                    starts.append(Int32(pos))
                    pos = end
                    if pos == n { break }
                    candidate = longest(pos, n)
                } else {
                    candidate = length > 1 ? longest(pos, length - 1) : nil
                }
            } else {
                // Nothing can follow at `pos`: a dead end. Back off the token before it and try a shorter one.
                dead[pos >> 6] |= 1 << UInt64(pos & 63)
                guard let start = starts.popLast() else { return false }
                ranks.removeLast()
                let length = pos - Int(start)
                pos = Int(start)
                candidate = length > 1 ? longest(pos, length - 1) : nil
            }
        }
        for i in 0..<ranks.count {
            emit(ranks[i], i + 1 < starts.count ? Int(starts[i + 1]) : n)
        }
        return true
    }
}
