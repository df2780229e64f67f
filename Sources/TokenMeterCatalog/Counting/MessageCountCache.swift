#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Prompt counts of single messages, kept so that a conversation re-sent with one more message costs only
/// that message (an agent or chat app sends its whole history every turn). Bounded in bytes, least recently
/// used entries evicted first; shared by every request of a process.
///
/// The key is the message's exact bytes (UTF-8 of every value, length-prefixed, with its member names and the
/// model, encoding and image policy it was counted for), compared in full on a hit: two messages share an entry
/// only when they are byte for byte the same, so a cached count always equals a fresh one (Swift's `String`
/// equality would merge canonically equivalent texts that tokenize differently). The chat framing is per
/// message, so the sum of the cached parts equals the full count.
public final class MessageCountCache: Sendable {
    /// One message's share of a prompt count: its text, framing and image tokens and the notes it raised.
    public struct Entry: Sendable, Equatable {
        public var text: Int
        public var framing: Int
        public var images: Int
        public var notes: [String]
    }

    private struct Slot {
        var entry: Entry
        var lastUse: UInt64
        var bytes: Int
    }

    /// A message's exact bytes as a dictionary key, compared with `memcmp`. Hashed by a digest computed once when
    /// the key is made: `[UInt8]`'s own `Hashable` feeds the hasher byte by byte, and even `Hasher.combine(bytes:)`
    /// (SipHash) over a re-sent 500 KB conversation was a tenth of the gateway's added time to first token
    /// (profiled); the dictionary would also hash every key again whenever it grows.
    struct Key: Hashable, Sendable {
        let bytes: [UInt8]
        let digest: UInt64

        init(bytes: [UInt8]) {
            self.bytes = bytes
            digest = bytes.withUnsafeBytes(Self.digest)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(digest)
        }

        static func == (a: Key, b: Key) -> Bool {
            a.digest == b.digest && a.bytes.count == b.bytes.count && a.bytes.withUnsafeBytes { x in b.bytes.withUnsafeBytes { y in
                x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
            } }
        }

        /// Drawn once per process, so that which messages share a digest cannot be worked out from outside.
        private static let seed = UInt64.random(in: .min ... .max)

        /// A 64-bit digest of `bytes`: four independent lanes, each folding in one 8-byte word per round by
        /// xor, an odd multiply and an xor-shift (each step invertible, so two inputs that differ in one word
        /// differ in that lane), then the lanes, the length and a final avalanche (MurmurHash3's `fmix64`
        /// constants). A fifth of SipHash's time on a re-sent 535 KB conversation (profiled: 0.06 against 0.32 ms a
        /// request). Not a cryptographic hash: equal digests only make two keys compare their bytes, so a collision
        /// costs one `memcmp`, never a wrong count.
        static func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            let multiplier: UInt64 = 0x9FB2_1C65_1E98_DF25
            @inline(__always) func fold(_ lane: UInt64, _ word: UInt64) -> UInt64 {
                let x = (lane ^ word) &* multiplier
                return x ^ (x >> 29)
            }
            var a = seed, b = seed ^ 0x9E37_79B9_7F4A_7C15, c = seed ^ 0xC2B2_AE3D_27D4_EB4F, d = seed ^ 0x1656_67B1_9E37_79F9
            var i = 0
            let n = bytes.count
            while i + 32 <= n {
                a = fold(a, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                b = fold(b, bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                c = fold(c, bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
                d = fold(d, bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                i += 32
            }
            while i + 8 <= n {
                a = fold(a, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            if i < n {
                var last: UInt64 = 0
                withUnsafeMutableBytes(of: &last) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[i...])) }
                b = fold(b, last)
            }
            func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { x << k | x >> (64 - k) }
            var h = a ^ rotate(b, 17) ^ rotate(c, 31) ^ rotate(d, 47) ^ UInt64(n)
            h ^= h >> 33
            h = h &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 33
            h = h &* 0xC4CE_B9FE_1A85_EC53
            return h ^ (h >> 33)
        }
    }

    private struct State {
        var slots: [Key: Slot] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    /// The most bytes the cache holds: keys, notes and a fixed overhead per entry.
    public let capacityBytes: Int
    private let state = Mutex(State())
    /// Bookkeeping per entry beyond its key and notes (dictionary slot, counts, clock), an estimate.
    private static let overhead = 96

    /// A cache of at most `capacityBytes` bytes (0 keeps nothing).
    public init(capacityBytes: Int) {
        self.capacityBytes = max(0, capacityBytes)
    }

    /// The cached count for `key`, marking it used.
    func entry(for key: Key) -> Entry? {
        state.withLock { s in
            s.clock += 1
            // One lookup by index: a second `slots[key]` to store the new `lastUse` would hash the whole key
            // again, and keys are whole messages (a re-sent conversation hashes hundreds of KB per request).
            guard let index = s.slots.index(forKey: key) else {
                s.misses += 1
                return nil
            }
            s.hits += 1
            s.slots.values[index].lastUse = s.clock
            return s.slots.values[index].entry
        }
    }

    /// Keeps `entry` for `key`; when the cache is then over its capacity, the least recently used quarter of it
    /// goes (evicting in batches keeps the cost per insertion constant on average).
    func store(_ entry: Entry, for key: Key) {
        let bytes = key.bytes.count + entry.notes.reduce(0) { $0 + $1.utf8.count } + Self.overhead
        guard bytes <= capacityBytes else { return }
        state.withLock { s in
            s.clock += 1
            if let old = s.slots.updateValue(Slot(entry: entry, lastUse: s.clock, bytes: bytes), forKey: key) { s.bytes -= old.bytes }
            s.bytes += bytes
            guard s.bytes > capacityBytes else { return }
            let target = capacityBytes / 4 * 3
            for (key, slot) in s.slots.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard s.bytes > target else { break }
                s.slots[key] = nil
                s.bytes -= slot.bytes
            }
        }
    }

    /// Entries, bytes held, and lookups that found or missed an entry so far.
    public var statistics: (entries: Int, bytes: Int, hits: Int, misses: Int) {
        state.withLock { ($0.slots.count, $0.bytes, $0.hits, $0.misses) }
    }
}

extension PromptMessage {
    /// This message's exact bytes as a cache key, after `context` (what else the count depends on): every member's
    /// name and value, each length-prefixed so that no two different messages give the same bytes.
    func cacheKey(context: [UInt8]) -> MessageCountCache.Key {
        var key = context
        // Room for the usual message (texts and names) up front, rather than growing through copies.
        key.reserveCapacity(context.count + members.reduce(0) { total, member in
            if case .text(let s) = member.value { total + member.key.utf8.count + s.utf8.count + 24 } else { total + 64 }
        })
        func put(_ n: Int) { withUnsafeBytes(of: UInt64(n).littleEndian) { key.append(contentsOf: $0) } }
        func put(_ s: String) {
            put(s.utf8.count)
            key.append(contentsOf: s.utf8)
        }
        func put(_ n: Int?) { if let n { key.append(1); put(n) } else { key.append(0) } }
        for (name, value) in members {
            put(name)
            switch value {
            case .text(let s):
                key.append(1)
                put(s)
            case .null:
                key.append(2)
            case .parts(let parts):
                key.append(3)
                put(parts.count)
                for part in parts {
                    switch part {
                    case .text(let s):
                        key.append(1)
                        put(s)
                    case .image(let image):
                        // What the count of an image depends on (not its bytes: its size is read from them).
                        key.append(2)
                        put(image.detail ?? "")
                        key.append(image.detail == nil ? 0 : 1)
                        put(image.width)
                        put(image.height)
                        key.append(image.sizeIsDeclared ? 1 : 0)
                    case .other(let type):
                        key.append(3)
                        put(type)
                    }
                }
            case .toolCalls(let calls):
                key.append(4)
                put(calls.count)
                for call in calls {
                    put(call.name)
                    put(call.arguments)
                }
            case .other(let json):
                key.append(5)
                put(json)
            }
        }
        return MessageCountCache.Key(bytes: key)
    }
}
