// swift-tools-version:6.1
import PackageDescription

// Module layout (see README "Layout"): C libraries sit behind their own system-library targets;
// imports point one way: Tokenizer, Client and Ledger never import each other; Catalog may use the
// Tokenizer; the Server composes them; the `tokenmeter` executable is a thin layer over library code.
let package = Package(
    name: "TokenMeter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tokenmeter", targets: ["tokenmeter"]),
        .library(name: "TokenMeterTokenizer", targets: ["TokenMeterTokenizer"]),
        .library(name: "TokenMeterMoney", targets: ["TokenMeterMoney"]),
        .library(name: "TokenMeterJSON", targets: ["TokenMeterJSON"]),
        .library(name: "TokenMeterCatalog", targets: ["TokenMeterCatalog"]),
        .library(name: "TokenMeterLedger", targets: ["TokenMeterLedger"]),
        .library(name: "TokenMeterClient", targets: ["TokenMeterClient"]),
        .library(name: "TokenMeterReports", targets: ["TokenMeterReports"]),
        .library(name: "TokenMeterServer", targets: ["TokenMeterServer"]),
        // The simulated upstream of `tokenmeter demo`, which the benchmarks (Benchmarks/, a package of its
        // own) start as well.
        .library(name: "TokenMeterSimulatedUpstream", targets: ["TokenMeterSimulatedUpstream"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The shared ledger of several gateway instances (PostgreSQL); SQLite through GRDB stays the default.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Property-based tests of the ledger (TokenMeterLedgerTests only); its generators (`Gen`, a modified
        // copy of pointfreeco's swift-gen) are part of the `PropertyBased` product, with no dependency of its own.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "TokenMeterMoney"),
        // The one JSON value, parser and writer (compact and pretty) of every module; no dependencies.
        .target(name: "TokenMeterJSON"),
        .testTarget(name: "TokenMeterJSONTests", dependencies: ["TokenMeterJSON"]),
        // Test support shared by several test targets (seeded random generator, the gate that keeps
        // resource-counting tests apart from network-heavy ones).
        .target(name: "TokenMeterTestSupport"),
        .target(
            name: "TokenMeterTokenizer",
            dependencies: [
                "CPCRE2",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TokenMeterTokenizerTests",
            dependencies: ["TokenMeterTokenizer", "TokenMeterTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "TokenMeterMoneyTests", dependencies: ["TokenMeterMoney"]),
        .target(
            name: "TokenMeterLedger",
            dependencies: [
                "TokenMeterMoney",
                "TokenMeterJSON",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The catalog data file is compiled in (Catalog/BundledCatalog.swift, made by
        // scripts/embed-catalog.sh) so an installed binary needs no resource bundle beside it.
        .target(
            name: "TokenMeterCatalog",
            dependencies: ["TokenMeterTokenizer", "TokenMeterMoney", "TokenMeterJSON"],
            exclude: ["Resources/catalog.json"]
        ),
        .testTarget(
            name: "TokenMeterCatalogTests",
            dependencies: ["TokenMeterCatalog", "TokenMeterTokenizer", "TokenMeterMoney", "TokenMeterJSON", "TokenMeterTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "TokenMeterLedgerTests",
            dependencies: ["TokenMeterLedger", "TokenMeterMoney", "TokenMeterTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // Monthly usage reports: renderers (table, CSV, JSON, HTML with inline SVG) that are pure functions
        // of the ledger's `MonthlyReport` value, shared by `tokenmeter report` and the server's admin route.
        .target(name: "TokenMeterReports", dependencies: ["TokenMeterLedger", "TokenMeterMoney", "TokenMeterJSON"]),
        .testTarget(
            name: "TokenMeterReportsTests",
            dependencies: ["TokenMeterReports", "TokenMeterLedger", "TokenMeterMoney", "TokenMeterJSON", "TokenMeterTestSupport",
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "tokenmeter",
            dependencies: [
                "TokenMeterTokenizer",
                "TokenMeterCatalog",
                "TokenMeterLedger",
                "TokenMeterReports",
                "TokenMeterClient",
                "TokenMeterMoney",
                "TokenMeterJSON",
                "TokenMeterServer",
                // Only `tokenmeter demo` starts it.
                "TokenMeterSimulatedUpstream",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Test-only helper: opens a ledger, leaves reservations open with checkpoints, prints "ready" and
        // waits to be killed with SIGKILL (the crash-recovery tests spawn it).
        .executableTarget(name: "ledger-crash-helper", dependencies: ["TokenMeterLedger", "TokenMeterMoney"]),
        .testTarget(name: "tokenmeterTests", dependencies: ["TokenMeterLedger", "TokenMeterMoney", "TokenMeterSimulatedUpstream", "TokenMeterTestSupport",
                                                     "TokenMeterReports", "TokenMeterClient", "TokenMeterTokenizer", "TokenMeterJSON",
                                                     .product(name: "GRDB", package: "GRDB.swift")]),
        // Streaming upstream client: libcurl transport (the only importer of CCurl), SSE/NDJSON
        // decoders, OpenAI-compatible and Ollama adapters. Depends on no other TokenMeter module but the
        // dependency-free JSON one.
        .target(name: "TokenMeterClient", dependencies: ["CCurl", "TokenMeterJSON"]),
        // A real HTTP/1.1 upstream on 127.0.0.1 with scripted streams and faults: the client's and the
        // server's end-to-end tests drive it, and `tokenmeter demo` answers its simulated models with it.
        // Internal (no library product); `tokenmeter serve` never starts it.
        .target(
            name: "TokenMeterSimulatedUpstream",
            dependencies: [
                "TokenMeterJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TokenMeterClientTests",
            dependencies: ["TokenMeterClient", "TokenMeterJSON", "TokenMeterSimulatedUpstream", "TokenMeterTestSupport"]
        ),
        // The HTTP gateway: Hummingbird app, auth, pre-flight, metered streaming, budget cut, admin,
        // metrics. Composes the tokenizer, catalog, ledger and client.
        .target(
            name: "TokenMeterServer",
            dependencies: [
                "TokenMeterReports",
                "TokenMeterTokenizer",
                "TokenMeterCatalog",
                "TokenMeterLedger",
                "TokenMeterClient",
                "TokenMeterMoney",
                "TokenMeterJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TokenMeterServerTests",
            dependencies: [
                "TokenMeterServer",
                "TokenMeterLedger",
                "TokenMeterMoney",
                "TokenMeterClient",
                "TokenMeterSimulatedUpstream",
                "TokenMeterTestSupport",
                "TokenMeterTokenizer",
                "TokenMeterJSON",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The alert tests' webhook receiver.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
