import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The mergeable ranks of one vocabulary in a flat, position-independent layout that is used as is,
/// whether it was just built from the `.tiktoken` source or memory-mapped from the binary cache.
///
/// Layout (little-endian; sections 8-byte aligned):
/// ```
/// header   128 bytes   see `TokenTableHeader`
/// offsets  UInt32 × (tokenCount + 1)   token r's bytes are blob[offsets[r] ..< offsets[r+1]] (empty: no token r)
/// slots    UInt64 × slotCount          open addressing, linear probing; 0 = empty,
///                                      else (hash >> 32) << 32 | (rank + 1)
/// blob     the bytes of every token, in rank order
/// ```
/// Lookups hash the bytes once, compare the stored 32 hash bits, then the bytes themselves.
/// The table is at most half full, so a probe sequence is short.
final class TokenTable: @unchecked Sendable {
    // @unchecked Sendable: the memory behind `base` is written only before init returns (built in
    // memory, or mapped read-only from the cache file) and never mutated afterwards; it is released
    // in deinit, when no other reference exists.
    let tokenCount: Int
    private let base: UnsafeRawPointer
    private let offsets: UnsafePointer<UInt32>
    private let slots: UnsafePointer<UInt64>
    private let slotMask: Int
    private let blob: UnsafePointer<UInt8>
    let header: TokenTableHeader
    private let release: @Sendable () -> Void
    /// Ranks of all two-byte tokens, indexed by `first << 8 | second` (`UInt32.max`: no such token):
    /// the first round of every BPE looks up each adjacent byte pair, and this makes it one load.
    /// Written once in init, read-only afterwards, freed in deinit.
    let pairRanks: UnsafeMutablePointer<UInt32>
    /// ``MergeTree`` of this table once a long piece needed it (`.some(nil)`: it cannot be built).
    let mergeTreeSlot = Mutex<MergeTree??>(nil)

    /// Wraps a serialized table. `release` frees the memory when the table goes away.
    init(serialized: UnsafeRawBufferPointer, release: @escaping @Sendable () -> Void) throws(TokenTableFormatError) {
        let header = try TokenTableHeader(reading: serialized)
        self.header = header
        base = serialized.baseAddress!
        tokenCount = Int(header.tokenCount)
        let layout = TokenTableLayout(tokenCount: tokenCount, slotCount: Int(header.slotCount), blobSize: Int(header.blobSize))
        guard serialized.count == layout.totalSize else { throw .truncated }
        offsets = (base + layout.offsetsStart).assumingMemoryBound(to: UInt32.self)
        slots = (base + layout.slotsStart).assumingMemoryBound(to: UInt64.self)
        blob = (base + layout.blobStart).assumingMemoryBound(to: UInt8.self)
        slotMask = Int(header.slotCount) - 1
        self.release = release
        pairRanks = .allocate(capacity: 65536)
        Self.fillPairRanks(pairRanks, tokenCount: tokenCount, offsets: offsets, blob: blob)
    }

    deinit {
        pairRanks.deallocate()
        release()
    }

    /// The rank of the token whose bytes are `bytes[0..<count]`, or `UInt32.max` if there is none.
    @inline(__always)
    func rank(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt32 {
        rank(bytes, count, hash: TokenHash.hash(bytes, count))
    }

    /// ``rank(_:_:)`` with the bytes' ``TokenHash`` already computed (a caller that keys its own table by it).
    @inline(__always)
    func rank(_ bytes: UnsafePointer<UInt8>, _ count: Int, hash h: UInt64) -> UInt32 {
        let tag = h & 0xFFFF_FFFF_0000_0000
        var i = Int(truncatingIfNeeded: h) & slotMask
        while true {
            let slot = slots[i]
            if slot == 0 { return .max }
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let r = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                let start = Int(offsets[r]), end = Int(offsets[r + 1])
                if end - start == count && TokenTable.equal(blob + start, bytes, count) { return UInt32(r) }
            }
            i = (i + 1) & slotMask
        }
    }

    /// Whether `a[0..<n]` equals `b[0..<n]`. Tokens are short, so word loads (all within the n bytes,
    /// overlapping at the end) beat a call to `memcmp`.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                    return false
                }
                i += 8
            }
            return ra.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == rb.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 {
            return ra.loadUnaligned(as: UInt32.self) == rb.loadUnaligned(as: UInt32.self)
                && ra.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == rb.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        for i in 0..<n where a[i] != b[i] { return false }
        return true
    }

    /// Fills `pairRanks` from the offsets (one pass over the ranks, well under a millisecond).
    private static func fillPairRanks(_ pairs: UnsafeMutablePointer<UInt32>, tokenCount: Int,
                                      offsets: UnsafePointer<UInt32>, blob: UnsafePointer<UInt8>) {
        pairs.initialize(repeating: .max, count: 65536)
        for r in 0..<tokenCount where offsets[r + 1] - offsets[r] == 2 {
            let p = blob + Int(offsets[r])
            pairs[Int(p[0]) << 8 | Int(p[1])] = UInt32(r)
        }
    }

    /// The bytes of token `rank`, or nil when the vocabulary has no such token.
    @inline(__always)
    func bytes(ofRank rank: Int) -> UnsafeBufferPointer<UInt8>? {
        guard rank >= 0, rank < tokenCount else { return nil }
        let start = Int(offsets[rank]), end = Int(offsets[rank + 1])
        guard end > start else { return nil }
        return UnsafeBufferPointer(start: blob + start, count: end - start)
    }

    /// Serializes `tokens` (bytes, rank) into the layout above, recording `source` in the header.
    static func serialize(tokens: [(bytes: ArraySlice<UInt8>, rank: Int)], source: TokenTableSource) -> [UInt8] {
        let tokenCount = (tokens.map(\.rank).max() ?? -1) + 1
        var slotCount = 16
        while slotCount < tokens.count * 2 { slotCount <<= 1 }
        let blobSize = tokens.reduce(0) { $0 + $1.bytes.count }
        let layout = TokenTableLayout(tokenCount: tokenCount, slotCount: slotCount, blobSize: blobSize)
        var out = [UInt8](repeating: 0, count: layout.totalSize)
        out.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            TokenTableHeader(tokenCount: UInt32(tokenCount), slotCount: UInt32(slotCount), blobSize: UInt64(blobSize),
                             source: source).write(to: raw)
            let offsets = (base + layout.offsetsStart).assumingMemoryBound(to: UInt32.self)
            let slots = (base + layout.slotsStart).assumingMemoryBound(to: UInt64.self)
            let blob = (base + layout.blobStart).assumingMemoryBound(to: UInt8.self)
            var byRank = [ArraySlice<UInt8>?](repeating: nil, count: tokenCount)
            for t in tokens { byRank[t.rank] = t.bytes }
            var position = 0
            for r in 0..<tokenCount {
                offsets[r] = UInt32(position)
                if let b = byRank[r] {
                    b.withUnsafeBufferPointer { (blob + position).update(from: $0.baseAddress!, count: b.count) }
                    position += b.count
                    let h = TokenHash.hash(blob + position - b.count, b.count)
                    var i = Int(truncatingIfNeeded: h) & (slotCount - 1)
                    while slots[i] != 0 { i = (i + 1) & (slotCount - 1) }
                    slots[i] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(r + 1)
                }
            }
            offsets[tokenCount] = UInt32(position)
        }
        return out
    }
}

/// Section offsets of a serialized `TokenTable`, in bytes from its start.
struct TokenTableLayout {
    let offsetsStart: Int, slotsStart: Int, blobStart: Int, totalSize: Int

    init(tokenCount: Int, slotCount: Int, blobSize: Int) {
        func align8(_ n: Int) -> Int { (n + 7) & ~7 }
        offsetsStart = TokenTableHeader.size
        slotsStart = align8(offsetsStart + 4 * (tokenCount + 1))
        blobStart = slotsStart + 8 * slotCount
        totalSize = blobStart + blobSize
    }
}

/// The hash of a byte string used by `TokenTable`. Part of the cache format: changing it requires a
/// new `TokenTableHeader.formatVersion`.
enum TokenHash {
    /// The hash of a string's UTF-8 bytes.
    static func hash(_ s: String) -> UInt64 {
        var s = s
        return s.withUTF8 { hash($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
    }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        let raw = UnsafeRawPointer(p)
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(truncatingIfNeeded: n) &* 0xFF51_AFD7_ED55_8CCD)
        var i = 0
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        let rest = n - i
        if rest > 0 {
            // 1-7 trailing bytes without reading past the end: two overlapping loads, as in wyhash.
            let w: UInt64
            if rest >= 4 {
                w = UInt64(raw.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                    | UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << 32
            } else {
                w = UInt64(p[i]) | UInt64(p[i + rest / 2]) << 8 | UInt64(p[n - 1]) << 16
            }
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }
}
