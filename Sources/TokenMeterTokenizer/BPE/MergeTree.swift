import Synchronization

/// How BPE builds each token, derived once per vocabulary for ``BacktrackingMerge``: for every token, the two
/// tokens whose merge forms it when its own bytes are encoded (its *split*), whether BPE can produce it at all
/// inside a longer piece, and, per two-byte start, the lengths of the tokens that begin with it.
///
/// A token's split is the last merge `BytePairMerge` makes on the token's bytes alone; ranks are merge order,
/// so both halves rank below the token. A token that this encoding of its own bytes does not end in (a few
/// exist in each vocabulary) is *unreachable*: BPE never forms it inside a longer piece, only as a whole piece,
/// which callers look up before merging. Single bytes are their own split.
final class MergeTree: Sendable {
    /// `left[t]`, `right[t]`: the split of token t (t itself for a byte or an unreachable token).
    let left: [UInt32]
    let right: [UInt32]
    /// Bit t: token t can be formed by merges.
    private let reachableBits: [UInt64]
    /// (left << 32 | right) → the token whose split that is; open addressing, `UInt64.max` empty.
    private let pairKeys: [UInt64]
    private let pairValues: [UInt32]
    private let pairMask: Int
    /// For the two-byte start `b0 << 8 | b1`: the lengths (≥ 2) of reachable tokens that begin with it,
    /// longest first, at `lengths[lengthStart[k] ..< lengthStart[k + 1]]`.
    let lengthStart: [UInt32]
    let lengths: [UInt8]

    /// Derives the tree of `table`; nil when a token is longer than 255 bytes (no bundled vocabulary has one;
    /// the caller then keeps the heap merge).
    init?(_ table: TokenTable) {
        let count = table.tokenCount
        var left = [UInt32](unsafeUninitializedCapacity: count) { b, c in for i in 0..<count { b[i] = UInt32(i) }; c = count }
        var right = left
        var reachable = [UInt64](repeating: 0, count: (count + 63) / 64)
        var pairCapacity = 16
        while pairCapacity < count * 2 { pairCapacity <<= 1 }
        var keys = [UInt64](repeating: .max, count: pairCapacity)
        var values = [UInt32](repeating: 0, count: pairCapacity)
        // 256 bits of lengths per two-byte start, flattened below.
        var lengthBits = [UInt64](repeating: 0, count: 65536 * 4)
        for t in 0..<count {
            guard let bytes = table.bytes(ofRank: t) else { continue }
            let n = bytes.count
            guard n <= 255 else { return nil }
            if n == 1 {
                reachable[t >> 6] |= 1 << UInt64(t & 63)
                continue
            }
            guard let (l, r) = Self.lastMerge(bytes.baseAddress!, n, table), l != .max, r != .max else { continue }
            left[t] = l
            right[t] = r
            reachable[t >> 6] |= 1 << UInt64(t & 63)
            let key = UInt64(l) << 32 | UInt64(r)
            var i = Self.slot(key, mask: pairCapacity - 1)
            while keys[i] != .max { i = (i + 1) & (pairCapacity - 1) }
            keys[i] = key
            values[i] = UInt32(t)
            let start = Int(bytes[0]) << 8 | Int(bytes[1])
            lengthBits[start * 4 + n >> 6] |= 1 << UInt64(n & 63)
        }
        var starts = [UInt32](repeating: 0, count: 65537)
        var flat: [UInt8] = []
        for k in 0..<65536 {
            starts[k] = UInt32(flat.count)
            for word in stride(from: 3, through: 0, by: -1) {
                var bits = lengthBits[k * 4 + word]
                while bits != 0 {
                    let high = 63 - bits.leadingZeroBitCount
                    flat.append(UInt8(word * 64 + high))
                    bits &= ~(1 << UInt64(high))
                }
            }
        }
        starts[65536] = UInt32(flat.count)
        self.left = left
        self.right = right
        self.reachableBits = reachable
        self.pairKeys = keys
        self.pairValues = values
        self.pairMask = pairCapacity - 1
        self.lengthStart = starts
        self.lengths = flat
    }

    @inline(__always)
    func isReachable(_ t: UInt32) -> Bool { reachableBits[Int(t) >> 6] & (1 << UInt64(t & 63)) != 0 }

    /// The token formed by merging `l` and `r` directly (its split is exactly that pair), or `UInt32.max`.
    @inline(__always)
    func merged(_ l: UInt32, _ r: UInt32) -> UInt32 {
        let key = UInt64(l) << 32 | UInt64(r)
        var i = Self.slot(key, mask: pairMask)
        while true {
            let k = pairKeys[i]
            if k == key { return pairValues[i] }
            if k == .max { return .max }
            i = (i + 1) & pairMask
        }
    }

    @inline(__always)
    private static func slot(_ key: UInt64, mask: Int) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    /// Whether BPE keeps `a` and `b` apart when they stand next to each other: encoding the bytes of `a`
    /// followed by those of `b` gives exactly `[a, b]`. Replays the two tokens' merges backwards, latest
    /// first (ranks are merge order), and at each step asks whether the two parts then facing each other
    /// across the boundary would have merged earlier than the merge being undone. On equal ranks the left
    /// pair wins (BPE's leftmost rule): a boundary pair beats a merge inside `b`, loses to one inside `a`.
    @inline(__always)
    func canFollow(_ a: UInt32, _ b: UInt32) -> Bool {
        var a = a, b = b
        var limit = UInt32.max
        while true {
            let m = merged(a, b)
            if m != .max && m < limit { return false }
            if a > b {
                limit = a
                a = right[Int(a)]
                if a == limit {  // `a` is a byte: only `b` can be undone further
                    limit = b &+ 1
                    b = left[Int(b)]
                    if b &+ 1 == limit { return true }
                }
            } else {
                limit = b &+ 1
                b = left[Int(b)]
                if b &+ 1 == limit {
                    limit = a
                    a = right[Int(a)]
                    if a == limit { return true }
                }
            }
        }
    }

    /// The last merge BPE makes on `bytes[0..<n]` (2 ≤ n ≤ 255) when they end as one token: the ranks of the
    /// two parts it joins; nil when they do not end as one token.
    private static func lastMerge(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable) -> (UInt32, UInt32)? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: n + 1) { starts in
            for i in 0...n { starts[i] = i }
            var parts = n
            var last: (Int, Int, Int) = (0, 0, 0)
            while parts > 1 {
                var best = UInt32.max, at = -1
                for j in 0..<(parts - 1) {
                    let r = table.rank(piece + starts[j], starts[j + 2] - starts[j])
                    if r < best { best = r; at = j }
                }
                guard at >= 0 else { return nil }
                last = (starts[at], starts[at + 1], starts[at + 2])
                for j in (at + 1)..<parts { starts[j] = starts[j + 1] }
                parts -= 1
            }
            return (table.rank(piece + last.0, last.1 - last.0), table.rank(piece + last.1, last.2 - last.1))
        }
    }
}

extension TokenTable {
    /// The merge tree of this vocabulary, derived on first use (one short merge per token) and kept.
    var mergeTree: MergeTree? {
        mergeTreeSlot.withLock { slot in
            if let built = slot { return built }
            let tree = MergeTree(self)
            slot = .some(tree)
            return tree
        }
    }
}
