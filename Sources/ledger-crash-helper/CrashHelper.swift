import Foundation
import TokenMeterLedger
import TokenMeterMoney

/// Test helper for the crash-recovery tests: opens a ledger as its owner, leaves reservations open with
/// checkpoints, prints what it wrote, prints `ready`, and keeps going until it is killed with SIGKILL.
///
///     ledger-crash-helper DB USER steady N   # N reservations with checkpoints, then sleep
///     ledger-crash-helper DB USER churn N    # N open reservations, then reserve/checkpoint/settle forever
///
/// Output lines (flushed at once):
///     written REQUEST_ID COMPLETION_TOKENS COST_PICO_USD   (steady: the last checkpoint written per request)
///     reserved REQUEST_ID | settled REQUEST_ID             (churn)
///     ready
@main
struct CrashHelper {
    /// Price of one completion token in the helper's fake model (pico-USD).
    static let pricePerToken = Money(picoUSD: 2_000)
    /// Prompt tokens of every helper request.
    static let promptTokens: Int64 = 100

    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count == 5, let count = Int(args[4]), ["steady", "churn"].contains(args[3]) else {
            FileHandle.standardError.write(Data("usage: ledger-crash-helper DB USER steady|churn N\n".utf8))
            exit(64)
        }
        var configuration = SQLiteUsageStore.Configuration()
        configuration.checkpointTokenStride = 10
        configuration.checkpointInterval = .seconds(3600)
        let store = try SQLiteUsageStore(path: args[1], configuration: configuration)
        let user = try await store.user(named: args[2])
        let key = try await store.createAPIKey(userID: user.id)
        if args[3] == "steady" {
            try await steady(store, userID: user.id, keyID: key.info.id, count: count)
        } else {
            try await churn(store, userID: user.id, keyID: key.info.id, count: count)
        }
    }

    static func usage(completionTokens: Int64) -> MeteredUsage {
        MeteredUsage(promptTokens: promptTokens, completionTokens: completionTokens,
                     cost: pricePerToken.times(Int(promptTokens + completionTokens))!)
    }

    static func reserve(_ store: SQLiteUsageStore, userID: Int64, keyID: Int64, id: String) async throws -> Reservation {
        try await store.reserve(ReservationRequest(
            requestID: id, userID: userID, apiKeyID: keyID, model: "crash-model", upstream: "test",
            estimate: UsageEstimate(cost: pricePerToken.times(10_000)!, tokens: 10_000)))
    }

    /// Reservation i streams 5 + 3i tokens with a checkpoint per token; the coalescer writes every 10th.
    static func steady(_ store: SQLiteUsageStore, userID: Int64, keyID: Int64, count: Int) async throws {
        for i in 0..<count {
            let r = try await reserve(store, userID: userID, keyID: keyID, id: "steady-\(i)")
            var written: MeteredUsage = .zero
            for tokens in 1...Int64(5 + 3 * i) {
                let u = usage(completionTokens: tokens)
                if try await store.checkpoint(r, usage: u) == .written { written = u }
            }
            emit("written \(r.requestID) \(written.completionTokens) \(written.cost.picoUSD)")
        }
        emit("ready")
        while true { try await Task.sleep(for: .seconds(60)) }
    }

    /// Keeps `count` reservations open, checkpointing them in turn and replacing one in five with a new one.
    static func churn(_ store: SQLiteUsageStore, userID: Int64, keyID: Int64, count: Int) async throws {
        var open: [(Reservation, Int64)] = []
        var next = 0
        func newReservation() async throws -> Reservation {
            defer { next += 1 }
            let r = try await reserve(store, userID: userID, keyID: keyID, id: "churn-\(next)")
            emit("reserved \(r.requestID)")
            return r
        }
        for _ in 0..<count { open.append((try await newReservation(), 0)) }
        emit("ready")
        var step = 0
        while true {
            let slot = step % open.count
            step += 1
            var (r, tokens) = open[slot]
            tokens += 7
            try await store.checkpoint(r, usage: usage(completionTokens: tokens))
            open[slot] = (r, tokens)
            if step % 5 == 0 {
                _ = try await store.settle(r, usage: usage(completionTokens: tokens), status: .completed)
                emit("settled \(r.requestID)")
                r = try await newReservation()
                open[slot] = (r, 0)
            }
        }
    }

    static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
