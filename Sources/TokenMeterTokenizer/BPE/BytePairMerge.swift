/// Byte-level BPE of one pre-tokenized piece, by merge rank, exactly as tiktoken's `byte_pair_merge`:
/// repeatedly merge the adjacent pair whose concatenation has the lowest rank, the leftmost one on
/// ties, until no adjacent pair is a token. Callers try the whole piece as one token first, which
/// is the common case and skips all of this.
///
/// Short pieces (the vast majority) use tiktoken's quadratic scan over a stack buffer: each part is
/// one `UInt64` holding `rank << 32 | start`, so the minimum of the packed values is the lowest rank
/// and, among equal ranks, the leftmost pair: exactly tiktoken's choice, found with one compare per
/// part. Long pieces (a 100 KB run of one letter is a single piece) would make that scan quadratic,
/// so above `longPiece` bytes ``BacktrackingMerge`` finds the same tokens in about linear time. The heap
/// merge (O(n log n), the same merges as the scan) stays as the fallback for a vocabulary without a
/// ``MergeTree`` and as the tests' second reference.
enum BytePairMerge {
    static let longPiece = 256
    static let noRank = UInt64(UInt32.max)

    /// Calls `emit` with the rank of each token of `piece[0..<n]`, left to right (n ≥ 2).
    @inline(__always)
    static func merge(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable,
                      _ emit: (UInt32) -> Void) {
        if n > longPiece {
            if let tree = table.mergeTree, BacktrackingMerge.encode(piece, n, table, tree, { rank, _ in emit(rank) }) { return }
            return mergeLong(piece, n, table) { s, e in emit(table.rank(piece + s, e - s)) }
        }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n + 1) { parts in
            let length = mergeShort(piece, n, table, parts)
            for j in 0..<(length - 1) {
                let start = Int(truncatingIfNeeded: parts[j] & 0xFFFF_FFFF)
                let end = Int(truncatingIfNeeded: parts[j + 1] & 0xFFFF_FFFF)
                emit(table.rank(piece + start, end - start))
            }
        }
    }

    /// The number of tokens in `piece[0..<n]` (n ≥ 2), without looking up the final ranks.
    @inline(__always)
    static func count(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable) -> Int {
        if n > longPiece {
            var c = 0
            if let tree = table.mergeTree, BacktrackingMerge.encode(piece, n, table, tree, { _, _ in c += 1 }) { return c }
            mergeLong(piece, n, table) { _, _ in c += 1 }
            return c
        }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n + 1) { parts in
            mergeShort(piece, n, table, parts) - 1
        }
    }

    /// Writes the end offset of each token of `piece[0..<n]` (n ≥ 1) plus `offset`, left to right, to
    /// `ends[at...]`, growing `ends` when it is too short; returns the index after the last one written
    /// (entries after it keep whatever they held). The token boundaries `IncrementalCounter` keeps for a
    /// piece that grows delta by delta, written in place: no per-call array operations.
    static func writeTokenEnds(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable, adding offset: Int32,
                               to ends: inout [Int32], at: Int) -> Int {
        if ends.count < at + n { ends.append(contentsOf: repeatElement(0, count: at + n - ends.count)) }
        return ends.withUnsafeMutableBufferPointer { out in
            if n == 1 || table.rank(piece, n) != .max { out[at] = offset + Int32(n); return at + 1 }
            if n > longPiece {
                var k = at
                if let tree = table.mergeTree,
                   BacktrackingMerge.encode(piece, n, table, tree, { _, e in out[k] = offset + Int32(e); k += 1 }) { return k }
                mergeLong(piece, n, table) { _, e in out[k] = offset + Int32(e); k += 1 }
                return k
            }
            return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n + 1) { parts in
                let length = mergeShort(piece, n, table, parts)
                for j in 1..<length { out[at + j - 1] = offset + Int32(truncatingIfNeeded: parts[j] & 0xFFFF_FFFF) }
                return at + length - 1
            }
        }
    }

    /// Runs the merges in `parts` (capacity n + 1); returns how many entries remain, the last being
    /// the end sentinel. Entry j is `rank(part j + part j+1) << 32 | start of part j`.
    /// `merged(start, middle, end)` sees each merge as it is made (the merge tree records a token's last one;
    /// the other callers pass nothing, and the inlined empty closure costs nothing).
    @inline(__always)
    static func mergeShort(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable,
                           _ parts: UnsafeMutableBufferPointer<UInt64>,
                           merged: (Int, Int, Int) -> Void = { _, _, _ in }) -> Int {
        let pairs = table.pairRanks
        for j in 0..<(n - 1) {
            parts[j] = UInt64(pairs[Int(piece[j]) << 8 | Int(piece[j + 1])]) << 32 | UInt64(j)
        }
        parts[n - 1] = noRank << 32 | UInt64(n - 1)
        parts[n] = noRank << 32 | UInt64(n)
        var length = n + 1

        @inline(__always) func start(_ j: Int) -> Int { Int(truncatingIfNeeded: parts[j] & 0xFFFF_FFFF) }
        @inline(__always) func pairRank(_ j: Int) -> UInt64 {
            guard j + 2 < length else { return noRank }
            let s = start(j)
            let n = start(j + 2) - s
            return n == 2 ? UInt64(pairs[Int(piece[s]) << 8 | Int(piece[s + 1])]) : UInt64(table.rank(piece + s, n))
        }

        while length > 2 {
            var best = parts[0], bestIndex = 0
            for j in 1..<(length - 2) where parts[j] < best { best = parts[j]; bestIndex = j }
            if best >> 32 == noRank { break }
            let i = bestIndex
            merged(start(i), start(i + 1), start(i + 2))
            // Merge part i with part i+1: drop entry i+1, then re-rank the pairs around i.
            for j in (i + 1)..<(length - 1) { parts[j] = parts[j + 1] }
            length -= 1
            parts[i] = pairRank(i) << 32 | UInt64(start(i))
            if i > 0 { parts[i - 1] = pairRank(i - 1) << 32 | UInt64(start(i - 1)) }
        }
        return length
    }

    /// The backtracking encoder on any piece (n ≥ 2), so tests can compare it with the scan and the heap.
    static func mergeBacktrackingForTesting(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable,
                                            _ emit: (UInt32) -> Void) -> Bool {
        guard let tree = table.mergeTree else { return false }
        return BacktrackingMerge.encode(piece, n, table, tree) { rank, _ in emit(rank) }
    }

    /// The heap algorithm on any piece, so tests can compare it with the scan.
    static func mergeLongForTesting(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable,
                                    _ emit: (UInt32) -> Void) {
        mergeLong(piece, n, table) { s, e in emit(table.rank(piece + s, e - s)) }
    }

    /// The same merges for long pieces: a binary heap of (rank << 32 | start) keys, invalidated lazily,
    /// over a doubly linked list of parts indexed by their start offset. Calls `emit(start, end)` for
    /// each token.
    private static func mergeLong(_ piece: UnsafePointer<UInt8>, _ n: Int, _ table: TokenTable,
                                  _ emit: (Int, Int) -> Void) {
        var next = [Int32](unsafeUninitializedCapacity: n + 1) { b, c in for i in 0...n { b[i] = Int32(i + 1) }; c = n + 1 }
        var prev = [Int32](unsafeUninitializedCapacity: n + 1) { b, c in for i in 0...n { b[i] = Int32(i - 1) }; c = n + 1 }
        var pairRank = [UInt32](repeating: .max, count: n)
        var heap = MinHeap(capacity: 2 * n)

        func rankOfPair(_ s: Int) -> UInt32 {
            let mid = Int(next[s])
            guard mid < n else { return .max }
            let end = Int(next[mid])
            return table.rank(piece + s, end - s)
        }
        for s in 0..<(n - 1) {
            let r = table.rank(piece + s, 2)
            pairRank[s] = r
            if r != .max { heap.push(UInt64(r) << 32 | UInt64(s)) }
        }
        while let key = heap.pop() {
            let s = Int(truncatingIfNeeded: key & 0xFFFF_FFFF)
            let r = UInt32(truncatingIfNeeded: key >> 32)
            guard pairRank[s] == r else { continue }  // stale: part s changed since this key was pushed
            let mid = Int(next[s])
            let after = Int(next[mid])
            next[s] = Int32(after)
            if after <= n { prev[after] = Int32(s) }
            pairRank[mid] = .max
            let newRank = rankOfPair(s)
            pairRank[s] = newRank
            if newRank != .max { heap.push(UInt64(newRank) << 32 | UInt64(s)) }
            let p = Int(prev[s])
            if p >= 0 {
                let pr = rankOfPair(p)
                pairRank[p] = pr
                if pr != .max { heap.push(UInt64(pr) << 32 | UInt64(p)) }
            }
        }
        var s = 0
        while s < n {
            let e = Int(next[s])
            emit(s, e)
            s = e
        }
    }
}

/// A binary min-heap of `UInt64` keys.
struct MinHeap {
    private var items: [UInt64]

    init(capacity: Int) { items = []; items.reserveCapacity(capacity) }

    mutating func push(_ key: UInt64) {
        items.append(key)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[parent] > items[i] else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
