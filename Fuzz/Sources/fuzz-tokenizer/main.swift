import FuzzSupport
import TokenMeterTokenizer

// Fuzz target for the tokenizer: arbitrary bytes, valid UTF-8 or not, through UTF-8 validation,
// encode, count, decode, special-token encoding and the IncrementalCounter fed in fuzzer-chosen
// splits. The header byte picks the encoding and the split schedule. Checks:
//  1. UTF8Validation agrees with the standard library's decoder on whether and where bytes are invalid;
//  2. valid text: count == encode().count, decode(encode(s)) == s, the same with every special token
//     allowed, and the incremental count after every delta equals the batch count of the complete
//     text so far (an incomplete trailing character is not counted);
//  3. invalid text: the counter throws invalidUTF8 at exactly the first invalid offset (or, when the
//     bytes end inside a character, holds exactly those bytes back), and a refused delta changes nothing;
//     the U+FFFD-repaired text satisfies (2);
//  4. decode of arbitrary ids never traps.
// Vocab files come from $TOKENMETER_VOCAB or the repository's vocab/ (the Makefile sets it).

private let encodings: [Encoding] = EncodingName.allCases.map { name in
    do { return try Encoding.named(name) } catch { fatalError("fuzz-tokenizer needs the vocab files: \(error)") }
}

/// Where the standard library's UTF-8 decoder first reports an error, or nil if the bytes are valid.
private func stdlibFirstInvalidOffset(_ bytes: [UInt8]) -> Int? {
    var iterator = bytes.makeIterator()
    var decoder = Unicode.UTF8()
    var offset = 0
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar): offset += UTF8.width(scalar)
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}

/// Special-token names whose id decodes to a different name, per encoding (computed once).
private let aliases: [String: [String]] = Dictionary(uniqueKeysWithValues: encodings.map { encoding in
    (encoding.name.rawValue, encoding.specialTokens.compactMap { name, id in
        (try? encoding.decodeString([id])) == name ? nil : name
    })
})

private func aliasedSpecialNames(_ encoding: Encoding) -> [String] { aliases[encoding.name.rawValue] ?? [] }

private func batchCount(_ encoding: Encoding, _ bytes: ArraySlice<UInt8>) -> Int {
    bytes.withUnsafeBufferPointer { encoding.count(utf8: $0) }
}

private func checkValid(_ encoding: Encoding, _ bytes: [UInt8]) {
    let ids = bytes.withUnsafeBufferPointer { encoding.encode(utf8: $0) }
    let count = batchCount(encoding, bytes[...])
    fuzzCheck(ids.count == count, "\(encoding.name): count \(count) != encode().count \(ids.count) for \(bytes)")
    let text = String(decoding: bytes, as: UTF8.self)
    fuzzCheck(encoding.encode(text) == ids, "\(encoding.name): String and byte encodings differ for \(bytes)")
    fuzzCheck(encoding.count(text) == count, "\(encoding.name): String count differs for \(bytes)")
    do {
        let decoded = try encoding.decode(ids)
        fuzzCheck(decoded == bytes, "\(encoding.name): decode(encode(s)) = \(decoded) != \(bytes)")
        let special = try encoding.encode(text, allowedSpecial: encoding.allSpecialTokens)
        let decodedSpecial = try encoding.decode(special)
        // A special-token name that shares its id with another name decodes as the other one
        // (o200k_harmony's `<|reserved_200018|>` is `<|endofprompt|>`, as in tiktoken).
        fuzzCheck(decodedSpecial == bytes || aliasedSpecialNames(encoding).contains(where: text.contains),
                  "\(encoding.name): decode(encode(s, allowedSpecial: all)) = \(decodedSpecial) != \(bytes)")
    } catch {
        fuzzCheck(false, "\(encoding.name): \(error) for the ids of valid text \(bytes)")
    }
}

private func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard let input = FuzzInput(data, size) else { return 0 }
    let encoding = encodings[Int(input.splitSeed >> 4) % encodings.count]
    let bytes = input.payload

    let firstInvalid = UTF8Validation.firstInvalidOffset(in: bytes)
    let stdlibInvalid = stdlibFirstInvalidOffset(bytes)
    fuzzCheck(firstInvalid == stdlibInvalid, "first invalid offset \(String(describing: firstInvalid)) != stdlib \(String(describing: stdlibInvalid)) for \(bytes)")

    if firstInvalid == nil {
        checkValid(encoding, bytes)
    } else {
        checkValid(encoding, Array(String(decoding: bytes, as: UTF8.self).utf8))
    }

    // The counter, fed the chunks; per-step batch recounts are checked at up to ~64 steps.
    var counter = IncrementalCounter(encoding: encoding)
    let chunks = input.chunks
    let checkEvery = max(1, chunks.count / 64)
    var fed = 0
    var refusedAt: Int?
    for (step, chunk) in chunks.enumerated() {
        let before = (counter.count, counter.incompleteBytes)
        do {
            let total = try chunk.withUnsafeBufferPointer { try counter.append(utf8: $0) }
            fed += chunk.count
            fuzzCheck(total == counter.count, "append returned \(total), count is \(counter.count)")
            if step % checkEvery == 0 || step == chunks.count - 1 {
                let complete = fed - counter.incompleteBytes
                let expected = batchCount(encoding, bytes[..<complete])
                fuzzCheck(counter.count == expected, "\(encoding.name): incremental \(counter.count) != batch \(expected) after \(fed) of \(bytes) (cuts \(input.cuts))")
            }
        } catch {
            fuzzCheck(error as? TokenizerError == .invalidUTF8(offset: firstInvalid ?? -1),
                      "counter threw \(error) after \(fed) bytes; first invalid offset is \(String(describing: firstInvalid)) in \(bytes)")
            fuzzCheck(counter.count == before.0 && counter.incompleteBytes == before.1, "a refused delta changed the counter")
            refusedAt = fed
            break
        }
    }
    if let firstInvalid, refusedAt == nil {
        // Not refused: the bytes must end inside a character that more bytes could complete.
        fuzzCheck(counter.incompleteBytes == bytes.count - firstInvalid && (1...3).contains(counter.incompleteBytes),
                  "invalid bytes \(bytes) were accepted (incomplete \(counter.incompleteBytes), first invalid \(firstInvalid))")
    }
    if firstInvalid == nil {
        fuzzCheck(counter.incompleteBytes == 0, "valid text left \(counter.incompleteBytes) bytes incomplete")
    }

    // Arbitrary ids, three bytes each, some past the vocabulary: decode throws or returns bytes, never traps.
    var ids: [Int] = []
    var i = 0
    while i + 3 <= bytes.count {
        ids.append((Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])) % (encoding.vocabularySize + 64))
        i += 3
    }
    _ = try? encoding.decode(ids)
    _ = try? encoding.decodeString(ids)
    return 0
}

runFuzzer { fuzzTokenizer($0, $1) }
