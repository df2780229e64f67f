/// Whether a checkpoint reached the database or was coalesced in memory.
public enum CheckpointOutcome: Sendable, Hashable {
    /// Written now; a crash after this point settles the request with at least this usage.
    case written
    /// Kept in memory (within the write interval and token stride); a later checkpoint, flush or the
    /// settle writes it.
    case coalesced
}
