import Foundation
import Logging
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterLedger

/// The gateway's shared dependencies, composed once per application: the ledger, the catalog, the
/// upstream client and metrics. Routes hold it by value; every member is Sendable.
struct Gateway: Sendable {
    /// The configuration the app was built with.
    let configuration: ServerConfiguration
    /// The ledger (owner role: it recovers interrupted reservations on open).
    let store: SQLiteUsageStore
    /// Models, encodings and prices.
    let catalog: ModelCatalog
    /// The libcurl upstream client.
    let client: ChatClient
    /// Prometheus metrics.
    let metrics: GatewayMetrics
    /// The app logger; requests log through their context's logger (with the request id).
    let logger: Logger
    /// Budget status per user after their last reservation (decides whether the upstream may start early).
    let budgetHints = BudgetHints()

    /// Writes the one usage record of `admitted` and updates the metrics. Never throws: a ledger failure is
    /// logged (the reservation stays open and is settled as `interrupted` at the next start).
    func settle(_ admitted: AdmittedRequest, usage: MeteredUsage, status: UsageStatus, logger: Logger) async {
        do {
            let outcome = try await store.settle(admitted.reservation, usage: usage, status: status)
            if !outcome.wasAlreadySettled { metrics.settled(usage, status: status) }
            logger.info("settled", metadata: [
                "status": "\(status.rawValue)", "model": "\(admitted.requestedModel)",
                "prompt_tokens": "\(usage.promptTokens)", "completion_tokens": "\(usage.completionTokens)",
                "billed_by": "\(usage.billedBy.rawValue)", "cost_pusd": "\(usage.cost.picoUSD)",
            ])
        } catch {
            logger.error("settling failed; the reservation will be recovered at the next start", metadata: ["error": "\(error)"])
        }
    }

    /// Authenticates `Authorization: Bearer <key>`.
    func authenticate(authorization: String?) async throws(GatewayError) -> AuthenticatedKey {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw .invalidAPIKey("You didn't provide an API key. Send your TokenMeter key as `Authorization: Bearer <key>`.")
        }
        let key = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        do {
            return try await store.authenticate(apiKey: key)
        } catch let error as LedgerError {
            throw .from(error)
        } catch {
            throw GatewayError(.internalServerError, "Authentication failed.", type: "server_error")
        }
    }
}
