import Logging
import ServiceLifecycle
import TokenMeterLedger

/// A background service that writes held-back ledger checkpoints every `interval`, so a crash loses at most
/// one interval of a stream's progress, and when the application stops (after the HTTP server, which
/// shuts down first and lets streams settle) closes the ledger: a last flush, then the database and its
/// ownership lock are released, so a restarted server can open the file at once.
struct CheckpointFlusher: Service {
    let store: SQLiteUsageStore
    /// Time between flushes.
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { break }
                do { try await store.flushCheckpoints() } catch {
                    logger.warning("checkpoint flush failed", metadata: ["error": "\(error)"])
                }
            }
        }
        do { try await store.close() } catch {
            logger.error("closing the ledger failed", metadata: ["error": "\(error)"])
        }
    }
}
