// swift-tools-version:6.1
import PackageDescription

// Module layout (see README "Layout"): C libraries sit behind their own system-library targets;
// imports point one way: Tokenizer, Client and Ledger never import each other; Catalog may use the
// Tokenizer; the Server composes them; the `tokenmeter` executable is a thin layer over library code.
let package = Package(
    name: "TokenMeter",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TokenMeterMoney", targets: ["TokenMeterMoney"]),
        .library(name: "TokenMeterClient", targets: ["TokenMeterClient"]),
        .library(name: "TokenMeterTestUpstream", targets: ["TokenMeterTestUpstream"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
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
        .testTarget(name: "TokenMeterMoneyTests", dependencies: ["TokenMeterMoney"]),
        // Streaming upstream client: libcurl transport (the only importer of CCurl), SSE/NDJSON
        // decoders, OpenAI-compatible and Ollama adapters. Depends on no other TokenMeter module.
        .target(name: "TokenMeterClient", dependencies: ["CCurl"]),
        // A real HTTP/1.1 upstream on 127.0.0.1 with scripted streams and faults, for client and
        // server end-to-end tests.
        .target(
            name: "TokenMeterTestUpstream",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Full-size runs of the client's bars (Benchmarks/run-client-benchmarks.sh writes
        // BENCHMARKS-client.md).
        .executableTarget(
            name: "TokenMeterClientStress",
            dependencies: ["TokenMeterClient", "TokenMeterTestUpstream"],
            path: "Benchmarks/ClientStress"
        ),
        .testTarget(
            name: "TokenMeterClientTests",
            dependencies: ["TokenMeterClient", "TokenMeterTestUpstream"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
