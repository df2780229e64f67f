import Logging
import ServiceLifecycle
import TokenMeterLedger

/// A background service that writes held-back ledger checkpoints every `interval`, so a crash loses at most
/// one interval of a stream's progress, and flushes once more when the
/// application stops.
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
        _ = try? await store.flushCheckpoints()
    }
}
