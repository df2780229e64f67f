import Synchronization
import Testing
import TokenMeterJSON
import TokenMeterTestSupport
import TokenMeterTokenizer
@testable import TokenMeterCatalog

/// The per-message count cache: a conversation counted with it, whole or re-sent with more messages, from a full
/// or a tiny cache, counts exactly what a fresh count does.
@Suite struct MessageCountCacheTests {
    static let words = ["the", "meter", "counts", "tokens", "café", "cafe\u{301}", "日本語", "naïve", "🙂", "  ", "\n", "x=1;", "Ω", "ﬁ"]

    /// A random chat request of `count` messages: text, parts (text and images of declared sizes), names and tool calls.
    static func conversation(_ count: Int, random: inout SeededGenerator) -> [JSONValue] {
        func text(_ n: Int) -> String { (0..<n).map { _ in words.randomElement(using: &random)! }.joined(separator: " ") }
        return (0..<count).map { i in
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                return ["role": "user", "content": [["type": "text", "text": .string(text(20))],
                                                    ["type": "image_url", "image_url": ["url": "https://example.com/a.png", "detail": "low"]]]]
            case 1:
                return ["role": "assistant", "content": .null, "tool_calls": [
                    ["id": .string("call_\(i)"), "type": "function", "function": ["name": "look", "arguments": .string(#"{"q":"\#(text(3))"}"#)]]]]
            case 2:
                return ["role": "tool", "tool_call_id": .string("call_\(i)"), "content": .string(text(15))]
            case 3:
                return ["role": "user", "name": "ann", "content": .string(text(Int.random(in: 1...200, using: &random)))]
            default:
                return ["role": "assistant", "content": .string(text(Int.random(in: 1...60, using: &random)))]
            }
        }
    }

    static func prompt(_ messages: [JSONValue]) throws -> ChatPrompt {
        try ChatPrompt(["model": "gpt-4o", "messages": .array(messages)])
    }

    @Test("on random conversations, counting through the cache (whole, re-sent with one more message, from a tiny cache) equals a fresh count")
    func equalsAFreshCount() throws {
        let model = try #require(try TestSupport.bundled().model(named: "gpt-4o"))
        let encoding = try Encoding.named(.o200k_base)
        let fresh = ChatPromptCounter(model: model, countText: { encoding.count($0) })
        let cache = MessageCountCache(capacityBytes: 64 << 20)
        let tiny = MessageCountCache(capacityBytes: 4_096)
        var random = SeededGenerator(seed: 19)
        for round in 0..<40 {
            var messages = Self.conversation(Int.random(in: 1...30, using: &random), random: &random)
            for step in 0..<3 {
                let prompt = try Self.prompt(messages)
                let expected = fresh.count(prompt)
                for shared in [cache, tiny] {
                    let counted = ChatPromptCounter(model: model, cache: shared, countText: { encoding.count($0) }).count(prompt)
                    #expect(counted == expected, "round \(round), step \(step)")
                }
                messages += Self.conversation(1, random: &random)
            }
        }
        #expect(cache.statistics.hits > 0 && tiny.statistics.bytes <= 4_096)
    }

    @Test("a re-sent history is found in the cache: only the new message is counted")
    func onlyTheNewMessageIsCounted() throws {
        let model = try #require(try TestSupport.bundled().model(named: "gpt-4o"))
        let encoding = try Encoding.named(.o200k_base)
        let counted = Mutex<[String]>([])
        let cache = MessageCountCache(capacityBytes: 1 << 20)
        let counter = ChatPromptCounter(model: model, cache: cache, countText: { text in
            counted.withLock { $0.append(text) }
            return encoding.count(text)
        })
        var random = SeededGenerator(seed: 7)
        let history = Self.conversation(20, random: &random)
        _ = counter.count(try Self.prompt(history))
        counted.withLock { $0 = [] }
        _ = counter.count(try Self.prompt(history + [["role": "user", "content": "one more question"]]))
        #expect(counted.withLock { $0 } == ["user", "one more question"])
        #expect(cache.statistics.hits == 20)
    }

    @Test("texts equal as Swift strings but not as bytes (é composed and decomposed) are counted apart")
    func canonicalEquivalentsAreNotMerged() throws {
        let model = try #require(try TestSupport.bundled().model(named: "gpt-4o"))
        let encoding = try Encoding.named(.o200k_base)
        let cache = MessageCountCache(capacityBytes: 1 << 20)
        let counter = ChatPromptCounter(model: model, cache: cache, countText: { encoding.count($0) })
        let fresh = ChatPromptCounter(model: model, countText: { encoding.count($0) })
        for text in ["caf\u{E9} caf\u{E9} caf\u{E9}", "cafe\u{301} cafe\u{301} cafe\u{301}"] {
            let prompt = try Self.prompt([["role": "user", "content": .string(text)]])
            #expect(counter.count(prompt) == fresh.count(prompt))
        }
        #expect(cache.statistics.entries == 2)
    }

    @Test("keys are equal exactly when their bytes are; digests differ when the bytes differ anywhere, also in a short tail")
    func keysAndDigests() {
        var random = SeededGenerator(seed: 7)
        for length in [0, 1, 7, 8, 9, 31, 32, 33, 100, 4_097] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let key = MessageCountCache.Key(bytes: bytes)
            #expect(key == MessageCountCache.Key(bytes: bytes))
            #expect(key.hashValue == MessageCountCache.Key(bytes: bytes).hashValue)
            #expect(key != MessageCountCache.Key(bytes: bytes + [0]), "a longer key differs, also by a zero byte")
            for position in Set([0, length / 2, length - 1]) where length > 0 {
                var changed = bytes
                changed[position] ^= 1
                let other = MessageCountCache.Key(bytes: changed)
                #expect(other != key)
                #expect(other.digest != key.digest, "length \(length), byte \(position)")
            }
        }
    }
}

