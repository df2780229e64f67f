// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for TokenMeter's parsers (docs/ROBUSTNESS.md). A package of its own, with a path
// dependency on the root package, so that `swift build --build-tests` at the root never sees these
// executables: each `main.swift` hands control to libFuzzer (`LLVMFuzzerRunDriver`), so they only link
// with `-sanitize=fuzzer`. Build and run them through the root Makefile: `make fuzz`, `make fuzz-sse`, ...
// They reach internal types (`SSEDecoder`, `ChatIntake`) through `@testable import`, so the build
// passes `-enable-testing`.
let package = Package(
    name: "TokenMeterFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenMeter", path: ".."),
    ],
    targets: [
        // libFuzzer's driver entry point, declared for Swift (the library itself comes with -sanitize=fuzzer).
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        .executableTarget(
            name: "fuzz-sse",
            dependencies: ["FuzzSupport", .product(name: "TokenMeterClient", package: "TokenMeter")]
        ),
        .executableTarget(
            name: "fuzz-ndjson",
            dependencies: ["FuzzSupport", .product(name: "TokenMeterClient", package: "TokenMeter")]
        ),
        .executableTarget(
            name: "fuzz-chat-request",
            dependencies: [
                "FuzzSupport",
                .product(name: "TokenMeterServer", package: "TokenMeter"),
                .product(name: "TokenMeterCatalog", package: "TokenMeter"),
                .product(name: "TokenMeterTokenizer", package: "TokenMeter"),
            ]
        ),
        .executableTarget(
            name: "fuzz-tokenizer",
            dependencies: ["FuzzSupport", .product(name: "TokenMeterTokenizer", package: "TokenMeter")]
        ),
        .executableTarget(
            name: "fuzz-catalog",
            dependencies: ["FuzzSupport", .product(name: "TokenMeterCatalog", package: "TokenMeter")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
