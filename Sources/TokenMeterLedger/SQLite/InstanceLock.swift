import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (`flock`) on `<database>.lock`, held by the one process that owns the
/// ledger's reservations (the server) for as long as it has the database open.
///
/// The kernel releases it when the process dies, even by SIGKILL, so the next owner can tell that open
/// reservations are orphans and settle them. Processes that only administer the ledger (the CLI) do not
/// take it and never recover reservations.
final class InstanceLock: Sendable {
    /// The lock file's path.
    let path: String
    /// The open descriptor holding the lock, until `release()` (or `deinit`) closes it.
    private let descriptor: Mutex<Int32?>

    /// Takes the lock without waiting; throws `.databaseInUse` if another process (or another store in
    /// this process) holds it.
    init(databasePath: String) throws(LedgerError) {
        path = databasePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cannotCreateDatabase(path: path, reason: "cannot open the lock file (errno \(errno))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .databaseInUse(path: databasePath)
        }
        descriptor = Mutex(fd)
    }

    /// Releases the lock now (idempotent), so another owner can open the ledger at once instead of
    /// whenever this object happens to be deallocated.
    func release() {
        descriptor.withLock { fd in
            guard let open = fd else { return }
            flock(open, LOCK_UN)
            close(open)
            fd = nil
        }
    }

    deinit { release() }
}
