// swift-tools-version:6.1
import PackageDescription

// TokenMeter's benchmarks (results in ../BENCHMARKS.md), a package of their own with a path dependency on
// the root package, as Fuzz/ is: `swift build --build-tests` at the root (and so `make test` and CI) never
// builds these executables. The scripts beside this file build what they need with
// `swift build --package-path Benchmarks -c release`.
let package = Package(
    name: "TokenMeterBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenMeter", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Tokenizer throughput in process (Benchmarks/tokenizer.sh, `make bench`).
        .executableTarget(
            name: "tokenizer-bench",
            dependencies: [.product(name: "TokenMeterTokenizer", package: "TokenMeter")],
            path: "TokenizerBenchmark"
        ),
        // Fills a SQLite ledger with 1,000,000 records by bulk SQL and times every report format
        // (Benchmarks/run-report-benchmark.sh).
        .executableTarget(
            name: "report-bench",
            dependencies: [
                .product(name: "TokenMeterReports", package: "TokenMeter"),
                .product(name: "TokenMeterLedger", package: "TokenMeter"),
                .product(name: "TokenMeterMoney", package: "TokenMeter"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "ReportBenchmark"
        ),
        // Full-size runs of the client's bars (Benchmarks/run-client-benchmarks.sh).
        .executableTarget(
            name: "TokenMeterClientStress",
            dependencies: [
                .product(name: "TokenMeterClient", package: "TokenMeter"),
                .product(name: "TokenMeterSimulatedUpstream", package: "TokenMeter"),
            ],
            path: "ClientStress"
        ),
        // Added time to first token of the gateway over calling the upstream directly, in one process; the
        // gateway's current figures come from `make bench-server`.
        .executableTarget(
            name: "tokenmeter-server-bench",
            dependencies: [
                .product(name: "TokenMeterServer", package: "TokenMeter"),
                .product(name: "TokenMeterClient", package: "TokenMeter"),
                .product(name: "TokenMeterLedger", package: "TokenMeter"),
                .product(name: "TokenMeterSimulatedUpstream", package: "TokenMeter"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "ServerTTFT"
        ),
        // The separate-process server benchmark and soak (Benchmarks/server.sh, `make bench-server`,
        // `make soak`): a paced simulated upstream and a closed-loop load generator, each its own executable.
        .executableTarget(
            name: "tokenmeter-bench-upstream",
            dependencies: [.product(name: "TokenMeterSimulatedUpstream", package: "TokenMeter")],
            path: "ServerLoad/Upstream"
        ),
        .systemLibrary(name: "CEpoll", path: "ServerLoad/CEpoll"),
        .executableTarget(
            name: "tokenmeter-loadgen",
            dependencies: [.product(name: "TokenMeterClient", package: "TokenMeter"),
                           .product(name: "TokenMeterJSON", package: "TokenMeter"), "CEpoll"],
            path: "ServerLoad/LoadGenerator"
        ),
    ],
    swiftLanguageModes: [.v6]
)
