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
    /// A bit set (2^23 bits, one hash) of the first L bytes of every reachable token at least L bytes long, for
    /// L = 3…8. When a piece's next L bytes are not in it, no reachable token of L bytes or more starts there, and
    /// ``BacktrackingMerge`` skips those lengths without a table probe each: in a run of `ab` every position
    /// probed each of the dozen lengths of tokens beginning with `ab`, and all failed. A set bit may be another
    /// prefix's (then the lengths are probed as before), so the tokens found never change.
    private let prefixes: [UInt64]
    static let prefixBits = 23
    static let prefixLengths = 3...8

    private init(left: [UInt32], right: [UInt32], reachableBits: [UInt64], pairKeys: [UInt64], pairValues: [UInt32],
                 lengthStart: [UInt32], prefixes: [UInt64], lengths: [UInt8]) {
        self.left = left
        self.right = right
        self.reachableBits = reachableBits
        self.pairKeys = pairKeys
        self.pairValues = pairValues
        self.pairMask = pairKeys.count - 1
        self.lengthStart = lengthStart
        self.prefixes = prefixes
        self.lengths = lengths
    }

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
        var prefixes = [UInt64](repeating: 0, count: 1 << (Self.prefixBits - 6))
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
            var prefix = UInt64(bytes[0]) | UInt64(bytes[1]) << 8
            for length in Self.prefixLengths where length <= n {
                prefix |= UInt64(bytes[length - 1]) << UInt64(8 * (length - 1))
                let slot = Self.prefixSlot(prefix, length: length)
                prefixes[slot >> 6] |= 1 << UInt64(slot & 63)
            }
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
        self.prefixes = prefixes
        self.lengths = flat
    }

    /// The bit of the first `length` bytes of a token, `prefix` (those bytes, the first in the low byte).
    @inline(__always)
    private static func prefixSlot(_ prefix: UInt64, length: Int) -> Int {
        let mixed = (prefix ^ UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> UInt64(64 - prefixBits))
    }

    /// False when no reachable token of `length` bytes or more (3…8) begins with `prefix`, those `length` bytes
    /// with the first in the low byte; true when one may.
    @inline(__always)
    func mayBegin(_ prefix: UInt64, length: Int) -> Bool {
        let slot = Self.prefixSlot(prefix, length: length)
        return prefixes[slot >> 6] & (1 << UInt64(slot & 63)) != 0
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
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n + 1) { parts in
            var last = (0, 0, 0)
            let remaining = BytePairMerge.mergeShort(piece, n, table, parts) { last = ($0, $1, $2) }
            guard remaining == 2 else { return nil }  // one part and the end sentinel
            return (table.rank(piece + last.0, last.1 - last.0), table.rank(piece + last.1, last.2 - last.1))
        }
    }
}

// MARK: - Cache file

/// Deriving a tree takes about 50-100 ms (one merge per token, 2 × 10⁵ tokens, bound by random table probes), so
/// it is stored beside the token-table cache (``VocabularyCache``) and read back in a few milliseconds: a
/// process that meets its first long piece pays the read, not the derivation. The file is named by its format and the
/// vocabulary's SHA-256 (the tree depends on nothing else) and checked for its magic, version and sizes; a
/// file that does not fit is ignored and written again.
extension MergeTree {
    static let magic = Array("TMTREE\0\0".utf8)
    static let formatVersion: UInt32 = 2
    static let headerSize = 64

    /// The tree of `table`: from the cache file when there is a good one, else derived (and cached).
    static func load(_ table: TokenTable, cacheDirectory: String? = VocabularyCache.directory()) -> MergeTree? {
        let hash = VocabularyFile.hex(table.header.source.sha256)
        // The format version is in the name, so two builds of different formats sharing a cache directory do not
        // each refuse and rewrite the other's file on every start.
        let path = cacheDirectory.map { "\($0)/mergetree-v\(formatVersion)-\(hash.prefix(32)).tmtree" }
        if let path, case .success(let bytes) = FileSystem.read(path), let tree = MergeTree(serialized: bytes, tokenCount: table.tokenCount) {
            return tree
        }
        guard let tree = MergeTree(table) else { return nil }
        if let path, let directory = cacheDirectory, FileSystem.makeDirectories(directory) {
            _ = FileSystem.writeAtomically(tree.serialized(), to: path)
        }
        return tree
    }

    func serialized() -> [UInt8] {
        var out = Self.magic
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func append<T: FixedWidthInteger>(_ values: [T]) { for v in values { append(v) } }
        append(Self.formatVersion)
        append(UInt32(left.count))
        append(UInt32(pairKeys.count))
        append(UInt32(lengths.count))
        out.append(contentsOf: repeatElement(0, count: Self.headerSize - out.count))
        append(left)
        append(right)
        append(reachableBits)
        append(pairKeys)
        append(pairValues)
        append(lengthStart)
        append(prefixes)
        out.append(contentsOf: lengths)
        return out
    }

    /// A tree read from `bytes`, or nil when they are not a tree of a `tokenCount`-token vocabulary.
    convenience init?(serialized bytes: [UInt8], tokenCount: Int) {
        guard bytes.count >= Self.headerSize, Array(bytes[0..<8]) == Self.magic else { return nil }
        var offset = 8
        func read<T: FixedWidthInteger>(_: T.Type) -> T {
            let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
            offset += MemoryLayout<T>.size
            return T(littleEndian: v)
        }
        // One copy per section (the file is little-endian, as every platform Swift runs on here).
        func read<T: FixedWidthInteger>(_: T.Type, count: Int) -> [T] {
            let start = offset
            offset += count * MemoryLayout<T>.size
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                bytes.withUnsafeBytes { raw in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * MemoryLayout<T>.size)]))
                }
                initialized = count
            }
        }
        guard read(UInt32.self) == Self.formatVersion else { return nil }
        let count = Int(read(UInt32.self)), capacity = Int(read(UInt32.self)), lengthCount = Int(read(UInt32.self))
        let words = (count + 63) / 64
        let prefixWords = 1 << (Self.prefixBits - 6)
        guard count == tokenCount, capacity > 0, capacity & (capacity - 1) == 0,
              bytes.count == Self.headerSize + 8 * count + 8 * words + 12 * capacity + 4 * 65537 + 8 * prefixWords + lengthCount
        else { return nil }
        offset = Self.headerSize
        let left = read(UInt32.self, count: count), right = read(UInt32.self, count: count)
        let reachable = read(UInt64.self, count: words)
        let keys = read(UInt64.self, count: capacity), values = read(UInt32.self, count: capacity)
        let starts = read(UInt32.self, count: 65537)
        let prefixes = read(UInt64.self, count: prefixWords)
        guard Int(starts[65536]) == lengthCount, left.allSatisfy({ Int($0) < count }), right.allSatisfy({ Int($0) < count }),
              values.allSatisfy({ Int($0) < count }) else { return nil }
        self.init(left: left, right: right, reachableBits: reachable, pairKeys: keys, pairValues: values,
                  lengthStart: starts, prefixes: prefixes, lengths: Array(bytes[offset...]))
    }
}

extension TokenTable {
    /// The merge tree of this vocabulary, read from its cache file or derived on first use, and kept.
    var mergeTree: MergeTree? {
        mergeTreeSlot.withLock { slot in
            if let built = slot { return built }
            let tree = MergeTree.load(self)
            slot = .some(tree)
            return tree
        }
    }
}
