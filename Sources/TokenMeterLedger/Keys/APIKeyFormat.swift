import Crypto
import Foundation

/// TokenMeter API keys: `tm_<prefix>_<secret>`.
///
/// - `prefix`: 8 characters of lowercase base32 (`a-z2-7`, 40 random bits), unique in the ledger and
///   stored in clear so people can tell keys apart and the ledger can find the row.
/// - `secret`: 52 characters of lowercase base32 encoding 32 random bytes (256 bits) from the system's
///   cryptographic generator.
///
/// The ledger stores the prefix and the SHA-256 of the whole key text (so a row's hash is bound to its
/// prefix); the secret itself is never written anywhere. Lookup is by prefix, then a constant-time
/// comparison of the hashes.
public enum APIKeyFormat {
    /// The fixed scheme tag at the start of every key.
    public static let scheme = "tm"
    /// Length of the visible prefix, in characters.
    public static let prefixLength = 8
    /// Length of the secret part, in characters (32 bytes in base32, unpadded).
    public static let secretLength = 52

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// A fresh random key: returns the full key text and its prefix.
    static func generate() -> (key: String, prefix: String) {
        var rng = SystemRandomNumberGenerator()
        let prefixBytes = (0..<5).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        let secretBytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        let prefix = base32(prefixBytes)
        return ("\(scheme)_\(prefix)_\(base32(secretBytes))", prefix)
    }

    /// Splits a presented key into its prefix, or nil if it does not have the format (no database access
    /// is needed to refuse it).
    static func prefix(ofKey key: String) -> String? {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == scheme,
              parts[1].utf8.count == prefixLength, parts[2].utf8.count == secretLength,
              parts[1].utf8.allSatisfy(alphabet.contains), parts[2].utf8.allSatisfy(alphabet.contains)
        else { return nil }
        return String(parts[1])
    }

    /// SHA-256 of the key text's UTF-8 bytes (32 bytes).
    static func hash(ofKey key: String) -> Data {
        Data(SHA256.hash(data: Data(key.utf8)))
    }

    /// Compares two hashes in time that depends only on their lengths, not on where they differ.
    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// Unpadded lowercase base32 (RFC 4648 alphabet) of `bytes`.
    static func base32(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
