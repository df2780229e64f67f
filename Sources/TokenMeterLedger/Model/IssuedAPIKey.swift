/// A newly created key: the only time the full secret exists outside its owner's hands.
public struct IssuedAPIKey: Sendable {
    /// The stored description of the key.
    public var info: APIKeyInfo
    /// The full key, `tm_<prefix>_<secret>`, to hand to the user once; the ledger keeps only its hash.
    public var key: String

    /// An issued key.
    public init(info: APIKeyInfo, key: String) {
        self.info = info
        self.key = key
    }
}
