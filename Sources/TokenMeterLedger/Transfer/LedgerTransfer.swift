import Foundation
import TokenMeterMoney

/// What `tokenmeter ledger copy` reads from one ledger and writes into another, whatever their backends: users,
/// budgets, keys (their hashes; secrets are never stored) and the settled usage records, with their ids, so
/// records keep pointing at the same users and keys. Open reservations are not moved: a ledger with live streams
/// is refused as a source.
public protocol LedgerTransfer: Sendable {
    /// Users with their budgets, and every key.
    func exportPeople() async throws -> LedgerPeople
    /// Up to `limit` records with an id above `afterID`, by id.
    func exportRecords(afterID: Int64, limit: Int) async throws -> [UsageRecord]
    /// How many reservations are open (live streams, or streams of a gateway that died and was not restarted).
    func openReservationCount() async throws -> Int
    /// Writes `people` into this ledger, which must have no users yet (`.storage` names what is there otherwise).
    func importPeople(_ people: LedgerPeople) async throws
    /// Appends `records` (ids kept) in one transaction; the rollups follow as for any settle.
    func importRecords(_ records: [UsageRecord]) async throws
    /// Makes ids given from now on follow the imported ones.
    func finishImport() async throws
    /// Sums of the whole ledger, from the records and from the rollups, for the copy's verification.
    func ledgerSums() async throws -> LedgerSums
}

/// Users (with budgets) and keys, as a ledger copy moves them.
public struct LedgerPeople: Sendable, Equatable {
    public struct Person: Sendable, Equatable {
        public var user: User
        public var budget: Budget
    }
    public struct Key: Sendable, Equatable {
        public var info: APIKeyInfo
        public var keySHA256: Data
    }
    public var people: [Person]
    public var keys: [Key]
}

/// The totals a copy must preserve: counts of users, keys and records, and per user the settled requests, billed
/// tokens, cost, estimated and overrun amounts, summed over the records and (separately) over the monthly rollup.
public struct LedgerSums: Sendable, Equatable, CustomStringConvertible {
    public struct PerUser: Sendable, Equatable {
        public var requests: Int64 = 0
        public var billedTokens: Int64 = 0
        public var costPicoUSD: Int64 = 0
        public var estimatedPicoUSD: Int64 = 0
        public var overrunPicoUSD: Int64 = 0
    }
    public var users = 0
    public var keys = 0
    public var revokedKeys = 0
    /// From `usage_records`, by user id.
    public var records: [Int64: PerUser] = [:]
    /// From `monthly_usage`, by user id (overrun is not rolled up monthly and stays 0).
    public var rollup: [Int64: PerUser] = [:]

    public var recordCount: Int64 { records.values.reduce(0) { $0 + $1.requests } }
    public var totalCost: Money { Money(picoUSD: records.values.reduce(0) { $0 + $1.costPicoUSD }) }
    public var totalBilledTokens: Int64 { records.values.reduce(0) { $0 + $1.billedTokens } }

    /// Whether the monthly rollup agrees with the records (requests, tokens, cost and estimate per user).
    public var rollupMatchesRecords: Bool {
        var fromRecords = records
        for key in fromRecords.keys { fromRecords[key]!.overrunPicoUSD = 0 }
        return fromRecords.filter { $0.value.requests > 0 } == rollup.filter { $0.value.requests > 0 }
    }

    public var description: String {
        "\(users) users, \(keys) keys (\(revokedKeys) revoked), \(recordCount) records, \(totalBilledTokens) billed tokens, \(totalCost)"
    }
}

/// Copies a ledger into an empty one and proves the copy: the same people and keys, and the same sums per user
/// over the records and over the rollups.
public enum LedgerCopy {
    /// What a finished copy moved.
    public struct Outcome: Sendable {
        public var source: LedgerSums
        public var destination: LedgerSums
    }

    /// Copies `source` into `destination` in batches of `batchSize` records; `progress` gets the records copied so
    /// far. Throws `.storage` with the reason when the source has open reservations, the destination is not empty,
    /// or the sums differ afterwards.
    public static func run(from source: any LedgerTransfer, to destination: any LedgerTransfer, batchSize: Int = 1_000,
                           progress: (Int64) -> Void = { _ in }) async throws -> Outcome {
        let open = try await source.openReservationCount()
        guard open == 0 else {
            throw LedgerError.storage("the source ledger has \(open) open reservations (live streams, or a gateway that stopped "
                + "without settling): stop its gateways, start one once to settle them, stop it, and copy again")
        }
        let before = try await source.ledgerSums()
        guard before.rollupMatchesRecords else {
            throw LedgerError.storage("the source ledger's monthly rollup does not match its records; not copying")
        }
        let people = try await source.exportPeople()
        try await destination.importPeople(people)
        var last: Int64 = 0
        var copied: Int64 = 0
        while true {
            let batch = try await source.exportRecords(afterID: last, limit: batchSize)
            guard let tail = batch.last else { break }
            try await destination.importRecords(batch)
            last = tail.id
            copied += Int64(batch.count)
            progress(copied)
        }
        try await destination.finishImport()
        let after = try await destination.ledgerSums()
        guard after.users == before.users, after.keys == before.keys, after.revokedKeys == before.revokedKeys,
              after.records == before.records else {
            throw LedgerError.storage("the copy's sums differ from the source's: source \(before), copy \(after)")
        }
        guard after.rollupMatchesRecords else {
            throw LedgerError.storage("the copy's monthly rollup does not match its records")
        }
        return Outcome(source: before, destination: after)
    }
}
