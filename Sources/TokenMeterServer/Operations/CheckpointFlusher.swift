import Logging
import ServiceLifecycle
import TokenMeterLedger

/// A background service that writes held-back ledger checkpoints every `interval`, so a crash loses at most
/// one interval of a stream's progress, retries settles the ledger could not take (``Settlement``),
/// and when the application stops (after the HTTP server, which shuts down first and lets streams settle)
/// closes the ledger: a last retry and flush, then the database and its ownership lock are released, so a
/// restarted server can open the file at once.
struct CheckpointFlusher: Service {
    let store: any GatewayLedger
    /// The usage records being written and the ones waiting for a retry.
    let settlement: Settlement
    /// Time between flushes.
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { break }
                await settlement.retryFailed()
                do { try await store.flushCheckpoints() } catch {
                    logger.warning("checkpoint flush failed", metadata: ["error": "\(error)"])
                }
            }
        }
        let waiting = await settlement.finish()
        if waiting > 0 {
            logger.error("requests left unsettled at shutdown; the next start settles them as interrupted",
                         metadata: ["count": "\(waiting)"])
        }
        do { try await store.close() } catch {
            logger.error("closing the ledger failed", metadata: ["error": "\(error)"])
        }
    }
}
