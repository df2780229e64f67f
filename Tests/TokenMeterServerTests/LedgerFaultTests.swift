import Foundation
import Glibc
import Testing
import TokenMeterClient
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterTestSupport
import TokenMeterSimulatedUpstream
import TokenMeterTokenizer

/// Ledger faults end to end (docs/FAULTS.md): the SQLite file locked by another connection, and a full disk.
extension ServerTests {
    @Suite("Ledger faults")
    struct LedgerFaultTests {
        static let encoding = { try! Encoding.named(.o200k_base) }()

        // MARK: - Locked database

        @Test("a ledger locked by another connection for 1.5 s when a request arrives: the request waits, then completes")
        func lockedBrieflyAtReservation() async throws {
            let harness = try await GatewayHarness.start()
            let key = try await harness.addUser("ivo")
            let scenario = UpstreamScenario(chunks: ["after ", "the ", "lock"])
            harness.upstream.setDefaultScenario(scenario)
            let lock = try LedgerLockHolder(path: harness.databasePath)
            let client = harness.client, gateway = harness.gateway(key: key)
            let started = ContinuousClock.now
            let request = Task { await collect(client.stream(chat(), to: gateway)) }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(harness.upstream.records.isEmpty, "the upstream was called before the reservation was written")
            await lock.release()
            let (events, error) = await request.value
            #expect(error == nil)
            #expect(events.compactMap(\.content).joined() == scenario.text)
            #expect(ContinuousClock.now - started >= .milliseconds(1500))
            let records = try await harness.waitForRecords(user: "ivo", count: 1)
            #expect(records.map(\.status) == ["completed"])
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("a ledger locked past the busy timeout at reservation: 503 ledger_busy, nothing reserved, no upstream call")
        func lockedPastTimeoutAtReservation() async throws {
            let harness = try await GatewayHarness.start { $0.ledgerBusyTimeout = .milliseconds(300) }
            let key = try await harness.addUser("jay")
            let lock = try LedgerLockHolder(path: harness.databasePath)
            let result = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            await lock.release()
            #expect(result.events.isEmpty)
            guard case .httpStatus(503, let body?, _)? = result.error else {
                Issue.record("expected 503, got \(String(describing: result.error))"); try await harness.stop(); return
            }
            #expect(body.code == "ledger_busy")
            #expect(harness.upstream.records.isEmpty)
            #expect(try harness.records(user: "jay").isEmpty)
            try await harness.expectBooksClosed()
            // The lock is gone: the same key works again.
            let again = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(again.error == nil)
            #expect(try await harness.waitForRecords(user: "jay", count: 1).map(\.status) == ["completed"])
            try await harness.stop()
        }

        @Test("a ledger locked from mid-stream until after it ends: the stream does not wait for the lock, the settle is retried, the record is exact")
        func lockedDuringStream() async throws {
            let harness = try await GatewayHarness.start { $0.ledgerBusyTimeout = .seconds(2) }
            let key = try await harness.addUser("kai")
            let scenario = UpstreamScenario.counting(40, interval: .milliseconds(10))
            harness.upstream.setDefaultScenario(scenario)
            let client = harness.client, gateway = harness.gateway(key: key)
            let request = Task { () -> (text: String, lastDelta: ContinuousClock.Instant, error: ChatClientError?) in
                var text = "", lastDelta = ContinuousClock.now
                do {
                    for try await event in client.stream(chat(), to: gateway) {
                        if let c = event.content, !c.isEmpty { text += c; lastDelta = .now }
                    }
                    return (text, lastDelta, nil)
                } catch { return (text, lastDelta, error as? ChatClientError) }
            }
            #expect(await harness.upstream.waitUntil(timeout: .seconds(3)) { ($0.first?.chunksWritten ?? 0) >= 3 })
            let lock = try LedgerLockHolder(path: harness.databasePath)
            let locked = ContinuousClock.now
            let (text, lastDelta, error) = await request.value
            // Checkpoints are written beside the stream, so no delta waits the 2 s busy timeout for the lock; the
            // response ends at most `Settlement.responseWait` (1 s) after the last delta, with the record not yet written.
            #expect(lastDelta - locked < .milliseconds(1500), "the deltas waited for the ledger: \(lastDelta - locked)")
            #expect(ContinuousClock.now - lastDelta < .milliseconds(1900), "the response end waited \(ContinuousClock.now - lastDelta)")
            #expect(error == nil)
            #expect(text == scenario.text)
            #expect(try harness.openReservations() == 1, "the settle could not have been written while the lock was held")
            await lock.release()
            let records = try await harness.waitForRecords(user: "kai", count: 1)
            #expect(records.map(\.status) == ["completed"])
            #expect(records.first?.completionTokens == Int64(Self.encoding.count(scenario.text)))
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        @Test("locked mid-stream past the busy timeout while a budgeted stream's hold must grow: the stream ends at its hold (length), settled once the lock goes")
        func lockedWhileTheHoldMustGrow() async throws {
            let harness = try await GatewayHarness.start {
                $0.ledgerBusyTimeout = .milliseconds(500)
                $0.holds.maximumSlice = 8
            }
            let key = try await harness.addUser("kim", budget: Budget(monthlyLimit: Money(picoUSD: 1_000_000_000_000)))
            harness.upstream.setDefaultScenario(UpstreamScenario.counting(200, interval: .milliseconds(10)))
            let client = harness.client, gateway = harness.gateway(key: key)
            let request = Task { await collect(client.stream(chat(), to: gateway)) }
            #expect(await harness.upstream.waitUntil(timeout: .seconds(3)) { ($0.first?.chunksWritten ?? 0) >= 3 })
            let lock = try LedgerLockHolder(path: harness.databasePath)
            let held = ContinuousClock.now
            let (events, error) = await request.value
            // No extension can be written: the stream goes on within its hold, waits at most the busy timeout for the
            // extension it needs, and ends there like a budget cut (it must not deliver what no hold covers).
            #expect(error == nil)
            #expect(events.last { $0.finishReason != nil }?.finishReason == .length)
            #expect(ContinuousClock.now - held < .seconds(3), "the stream waited \(ContinuousClock.now - held)")
            let delivered = Self.encoding.count(events.compactMap(\.content).joined())
            #expect(delivered < Self.encoding.count(UpstreamScenario.counting(200).text))
            await lock.release()
            let records = try await harness.waitForRecords(user: "kim", count: 1)
            #expect(records.map(\.status) == ["cut_by_budget"])
            #expect(records.first?.completionTokens == Int64(delivered))
            try await harness.expectBooksClosed()
            try await harness.stop()
        }

        // MARK: - Full disk

        @Test("a full disk at reservation: 500 ledger_error, nothing reserved, no upstream call; works again once space is freed",
              .enabled(if: TinyDisk.requirement.shouldRun, "needs root to mount a tmpfs"))
        func diskFullAtReservation() async throws {
            try TinyDisk.requirement.check()
            let disk = try TinyDisk()
            defer { disk.unmount() }
            let harness = try await GatewayHarness.start(databasePath: disk.directory + "/ledger.sqlite")
            let key = try await harness.addUser("lou")
            try disk.fill()
            let result = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(result.events.isEmpty)
            guard case .httpStatus(500, let body?, _)? = result.error else {
                Issue.record("expected 500, got \(String(describing: result.error))")
                try disk.free(); try await harness.stop(); return
            }
            #expect(body.code == "ledger_error")
            #expect(harness.upstream.records.isEmpty)
            try disk.free()
            #expect(try harness.records(user: "lou").isEmpty)
            try await harness.expectBooksClosed()
            let again = await collect(harness.client.stream(chat(), to: harness.gateway(key: key)))
            #expect(again.error == nil)
            #expect(try await harness.waitForRecords(user: "lou", count: 1).map(\.status) == ["completed"])
            #expect(try await harness.ledgerConnection().read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
            try await harness.stop()
        }

        @Test("the disk fills in mid-stream: the stream completes, the settle is retried and written once space is freed",
              .enabled(if: TinyDisk.requirement.shouldRun, "needs root to mount a tmpfs"))
        func diskFullDuringStream() async throws {
            try TinyDisk.requirement.check()
            let disk = try TinyDisk()
            defer { disk.unmount() }
            let harness = try await GatewayHarness.start(databasePath: disk.directory + "/ledger.sqlite")
            let key = try await harness.addUser("mia")
            let scenario = UpstreamScenario.counting(40, interval: .milliseconds(10))
            harness.upstream.setDefaultScenario(scenario)
            let client = harness.client, gateway = harness.gateway(key: key)
            let request = Task { await collect(client.stream(chat(), to: gateway)) }
            #expect(await harness.upstream.waitUntil(timeout: .seconds(3)) { ($0.first?.chunksWritten ?? 0) >= 3 })
            try disk.fill()
            let (events, error) = await request.value
            #expect(error == nil)
            #expect(events.compactMap(\.content).joined() == scenario.text)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try harness.openReservations() == 1, "the settle could not have been written on a full disk")
            #expect(try harness.records(user: "mia").isEmpty)
            try disk.free()
            let records = try await harness.waitForRecords(user: "mia", count: 1)
            #expect(records.map(\.status) == ["completed"])
            #expect(records.first?.completionTokens == Int64(Self.encoding.count(scenario.text)))
            try await harness.expectBooksClosed()
            #expect(try await harness.ledgerConnection().read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
            try await harness.stop()
        }
    }
}

/// A real full disk for the ledger: a 16 MiB tmpfs mounted on a temporary directory, filled to the last
/// page by a filler file (writes then fail with ENOSPC, SQLite's `SQLITE_FULL`), and freed by deleting it.
/// Mounting needs root (CAP_SYS_ADMIN); elsewhere the tests that use it are skipped, or fail under `make test`
/// (``requirement``).
struct TinyDisk {
    let directory: String
    private var filler: String { directory + "/filler" }

    /// Whether this process can mount a tmpfs (tried once).
    static let available: Bool = {
        guard geteuid() == 0, let probe = try? TinyDisk() else { return false }
        probe.unmount()
        return true
    }()

    /// What the tests using a tiny disk need (CI runs them as root).
    static let requirement = TestRequirement(isMet: available, "root (CAP_SYS_ADMIN) to mount a tmpfs")

    /// Mounts a fresh tmpfs.
    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tm-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", directory]) == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    /// Fills the file system: writes until the kernel says ENOSPC, in 64 KiB and then 512-byte pieces.
    func fill() throws {
        FileManager.default.createFile(atPath: filler, contents: nil)
        let fd = Glibc.open(filler, O_WRONLY | O_APPEND)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { Glibc.close(fd) }
        var lastError: Int32 = 0
        for size in [65_536, 512] {
            let block = [UInt8](repeating: 0xA5, count: size)
            while block.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, size) }) > 0 {}
            lastError = errno
        }
        #expect(lastError == ENOSPC, "the filler stopped with errno \(lastError), not ENOSPC")
    }

    /// Frees the space the filler took.
    func free() throws {
        try FileManager.default.removeItem(atPath: filler)
    }

    /// Unmounts and removes the directory.
    func unmount() {
        _ = Self.run("/bin/umount", ["-l", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func run(_ tool: String, _ args: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
