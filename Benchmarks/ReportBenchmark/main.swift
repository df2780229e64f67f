// report-bench: fills a real SQLite ledger with usage records by bulk SQL, then times the monthly report
// in every format and prints the process's resident memory. See Benchmarks/run-report-benchmark.sh.
//
//   report-bench fill --db PATH --records N --users U [--previous-month M]
//   report-bench run  --db PATH [--repeat R]
//
// `fill` and `run` are separate processes so that `run`'s peak RSS is the report's alone.

import Foundation
import GRDB
import TokenMeterLedger
import TokenMeterMoney
import TokenMeterReports

/// The month the benchmark fills and reports: June 2025 (30 days, complete when the benchmark runs).
let period = BillingPeriod(year: 2025, month: 6)!

func argument(_ name: String, default value: String? = nil) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    guard let value else { fatalError("missing \(name)") }
    return value
}

/// `VmRSS` and `VmHWM` (peak) of this process in MiB, from /proc/self/status.
func memory() -> (rss: Double, peak: Double) {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        let kib = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kib / 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

/// Creates the ledger (through the store, so the schema is the real migrated one), then inserts users,
/// keys, budgets and records with `INSERT … SELECT` over a recursive counter: no per-record API call.
func fill(path: String, records: Int, users: Int, previousMonth: Int) throws {
    try? FileManager.default.removeItem(atPath: path)
    for suffix in ["-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    var configuration = SQLiteUsageStore.Configuration()
    configuration.role = .administration
    _ = try SQLiteUsageStore(path: path, configuration: configuration)

    let queue = try DatabaseQueue(path: path)
    let clock = ContinuousClock()
    let start = clock.now
    let monthStart = period.start.timeIntervalSince1970 * 1000
    let monthLength = (period.end.timeIntervalSince1970 - period.start.timeIntervalSince1970) * 1000
    try queue.write { db in
        try db.execute(sql: "PRAGMA foreign_keys = ON")
        try db.execute(sql: """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(users))
            INSERT INTO users (id, name, status, created_at)
            SELECT i, printf('user%04d', i), CASE WHEN i % 97 = 0 THEN 'disabled' ELSE 'active' END, 0 FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(users))
            INSERT INTO api_keys (id, user_id, prefix, key_sha256, created_at)
            SELECT i, i, 'k' || substr('abcdefghijklmnopqrstuvwxyz', (i / 17576) % 26 + 1, 1)
                       || substr('abcdefghijklmnopqrstuvwxyz', (i / 676) % 26 + 1, 1)
                       || substr('abcdefghijklmnopqrstuvwxyz', (i / 26) % 26 + 1, 1)
                       || substr('abcdefghijklmnopqrstuvwxyz', i % 26 + 1, 1) || 'zzz',
                   zeroblob(32), 0 FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(users))
            INSERT INTO budgets (user_id, monthly_limit_pusd, monthly_token_limit, max_request_pusd)
            SELECT i, (i % 50 + 1) * 1000000000000, NULL, NULL FROM n WHERE i % 3 <> 0;
            """)
        // Records: 5 models, ~2/3 with provider counts (billed by them), statuses in realistic shares,
        // costs a whole number of pico-USD per token (as the catalog's prices are).
        func insertRecords(count: Int, startMs: Double, lengthMs: Double, prefix: String) throws {
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(count) - 1),
                r AS (
                    SELECT i, (i * 7919) % \(users) + 1 AS user_id,
                           CAST(\(Int64(startMs)) + (i * \(Int64(lengthMs))) / \(count) AS INTEGER) AS ended_at,
                           10 + (i * 31) % 2000 AS prompt, 1 + (i * 17) % 800 AS completion,
                           (i % 3) <> 0 AS reported, (i / 7) % 5 AS m
                    FROM n
                )
                INSERT INTO usage_records (request_id, user_id, api_key_id, model, upstream, started_at, ended_at,
                    status, prompt_tokens, completion_tokens, provider_prompt_tokens, provider_completion_tokens,
                    provider_cached_tokens, provider_reasoning_tokens, billed_by, billed_tokens, cost_pusd)
                SELECT '\(prefix)' || i, user_id, user_id,
                       CASE m WHEN 0 THEN 'gpt-4o-mini' WHEN 1 THEN 'gpt-4o' WHEN 2 THEN 'o3-mini'
                              WHEN 3 THEN 'gpt-4.1' ELSE 'llama3.1:8b' END,
                       CASE m WHEN 4 THEN 'ollama' ELSE 'openai' END,
                       ended_at - 1500, ended_at,
                       CASE WHEN i % 50 = 1 THEN 'cut_by_budget' WHEN i % 50 = 2 THEN 'client_cancelled'
                            WHEN i % 100 = 3 THEN 'upstream_error' WHEN i % 1000 = 4 THEN 'interrupted'
                            ELSE 'completed' END,
                       prompt, completion,
                       CASE WHEN reported THEN prompt + 1 END, CASE WHEN reported THEN completion END,
                       CASE WHEN reported AND m = 1 THEN prompt / 2 END,
                       CASE WHEN reported AND m = 2 THEN completion / 3 END,
                       CASE WHEN reported THEN 'provider' ELSE 'local' END,
                       CASE WHEN reported THEN prompt + 1 + completion ELSE prompt + completion END,
                       (CASE WHEN reported THEN prompt + 1 + completion ELSE prompt + completion END)
                           * (CASE m WHEN 0 THEN 150000 WHEN 1 THEN 2500000 WHEN 2 THEN 1100000
                                     WHEN 3 THEN 2000000 ELSE 0 END)
                FROM r
                """)
        }
        if previousMonth > 0 {
            let previous = BillingPeriod(year: 2025, month: 5)!
            try insertRecords(count: previousMonth, startMs: previous.start.timeIntervalSince1970 * 1000,
                              lengthMs: (previous.end.timeIntervalSince1970 - previous.start.timeIntervalSince1970) * 1000,
                              prefix: "p")
        }
        try insertRecords(count: records, startMs: monthStart, lengthMs: monthLength, prefix: "b")
    }
    try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print("filled \(path): \(records) records in \(period) + \(previousMonth) in the month before, \(users) users, "
          + "\(size / 1_048_576) MiB, \(Int(milliseconds(clock.now - start))) ms")
}

/// Times the report of `period` in each format (query and rendering, best and worst of `repeats`) and
/// prints memory after each.
func run(path: String, repeats: Int) async throws {
    var configuration = SQLiteUsageStore.Configuration()
    configuration.role = .administration
    configuration.createIfMissing = false
    let store = try SQLiteUsageStore(path: path, configuration: configuration)
    let clock = ContinuousClock()
    let before = memory()
    print("store open: RSS \(String(format: "%.1f", before.rss)) MiB\n")
    print("| what | best ms | worst ms | output | RSS MiB | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    var reference: Money?
    for format in [nil] + ReportFormat.allCases.map(Optional.some) {
        var times: [Double] = []
        var bytes = 0
        for _ in 0..<repeats {
            let start = clock.now
            let report = try await store.monthlyReport(for: period, userName: nil)
            if let format { bytes = format.render(report).utf8.count }
            times.append(milliseconds(clock.now - start))
            if let reference { precondition(report.totals.cost == reference, "totals changed between runs") }
            reference = report.totals.cost
        }
        let m = memory()
        let name = format.map { "query + \($0.rawValue)" } ?? "query only (MonthlyReport value)"
        print("| \(name) | \(Int(times.min()!)) | \(Int(times.max()!)) | \(bytes / 1024) KiB | "
              + "\(String(format: "%.1f", m.rss)) | \(String(format: "%.1f", m.peak)) |")
    }
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = clock.now
        _ = try await store.monthlyReport(for: period, userName: "user0500")
        times.append(milliseconds(clock.now - start))
    }
    print("| query, one user (--user) | \(Int(times.min()!)) | \(Int(times.max()!)) | | | |")
    let report = try await store.monthlyReport(for: period, userName: nil)
    print("\nrecords \(report.totals.requests), users \(report.users.count), models \(report.models.count), "
          + "user-model pairs \(report.userModels.count), days \(report.days.count), total \(report.totals.cost)")
}

switch CommandLine.arguments.dropFirst().first {
case "fill":
    try fill(path: argument("--db"), records: Int(argument("--records", default: "1000000"))!,
             users: Int(argument("--users", default: "1000"))!,
             previousMonth: Int(argument("--previous-month", default: "0"))!)
case "run":
    try await run(path: argument("--db"), repeats: Int(argument("--repeat", default: "3"))!)
default:
    print("usage: report-bench fill --db PATH [--records N] [--users U] [--previous-month M] | run --db PATH [--repeat R]")
    exit(64)
}
