// swift-tools-version:6.0
import PackageDescription

// Targets follow docs/ARCHITECTURE.md: dependencies point inward to InsightCore,
// the emulator is pure logic, and the command line stays thin.
let package = Package(
    name: "InsightReplay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "insight-replay", targets: ["insight-replay"]),
        .library(name: "InsightCore", targets: ["InsightCore"]),
        .library(name: "InsightEmulator", targets: ["InsightEmulator"]),
        .library(name: "InsightServer", targets: ["InsightServer"]),
        .library(name: "InsightClient", targets: ["InsightClient"]),
        .library(name: "InsightRecordings", targets: ["InsightRecordings"]),
        .library(name: "InsightScenario", targets: ["InsightScenario"]),
        .library(name: "InsightDriver", targets: ["InsightDriver"]),
        // Preloaded into an outside client (LD_PRELOAD) to run it on the emulator's virtual clock
        // and send the Rapid7 hosts to the emulator; never linked into a Swift target.
        .library(name: "InsightPreload", type: .dynamic, targets: ["InsightPreload"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // Transparent HTTPS: TLS (swift-nio-ssl already builds swift-certificates and swift-crypto,
        // so the local CA costs no further dependency).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.19.4"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.1.0"),
    ],
    targets: [
        .target(name: "InsightCore"),
        // The page of virtual time shared with the client's processes, and the interposer that reads it.
        .target(name: "CVirtualTime"),
        .target(name: "InsightPreload", dependencies: ["CVirtualTime"]),
        .target(name: "InsightEmulator", dependencies: ["InsightCore"]),
        .target(
            name: "InsightServer",
            dependencies: [
                "InsightEmulator", "InsightRecordings",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "InsightClient",
            dependencies: ["InsightCore", .product(name: "Logging", package: "swift-log")]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // glibc's malloc statistics for the hardening runs (a header only; nothing to link).
        .systemLibrary(name: "CMalloc"),
        .target(name: "InsightRecordings", dependencies: ["InsightCore", "CSQLite"]),
        // Scenario files: the model and the strict loader, without the server or TLS.
        .target(
            name: "InsightScenario",
            dependencies: ["InsightCore", "InsightEmulator", "InsightClient", .product(name: "Yams", package: "Yams")]),
        .target(
            name: "InsightDriver",
            dependencies: [
                "InsightCore", "InsightEmulator", "InsightClient", "InsightRecordings", "InsightServer", "CVirtualTime", "InsightScenario",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Hostile inputs and their harnesses (HTTP, TLS, file mutants, the command line's entry
        // points, the ways a path is typed), for `insight-replay hostile` and the tests; never
        // linked into the emulator, the server or the driver.
        .target(
            name: "InsightHardening",
            dependencies: [
                "InsightCore", "InsightEmulator", "InsightServer", "InsightRecordings", "InsightDriver", "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Benchmarks/server.sh: the minimal SwiftNIO server the emulator's server is measured against.
        .executableTarget(
            name: "nio-baseline",
            dependencies: [
                "InsightServer", "InsightHardening",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/NIOBaseline"),
        .executableTarget(
            name: "insight-replay",
            dependencies: [
                "InsightDriver", "InsightServer", "InsightClient", "InsightEmulator", "InsightRecordings", "InsightCore",
                "InsightHardening",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Fuzz/: the coverage-guided fuzzer's targets (scripts/fuzz.sh builds them with
        // -sanitize=fuzzer); built normally, it replays inputs through the same targets.
        .executableTarget(
            name: "insight-fuzz",
            dependencies: ["InsightDriver", "InsightServer", "InsightRecordings", "InsightEmulator", "InsightCore", "InsightHardening"],
            path: "Fuzz"),
        .testTarget(name: "InsightCoreTests", dependencies: ["InsightCore"]),
        .testTarget(name: "InsightEmulatorTests", dependencies: ["InsightEmulator"]),
        .testTarget(name: "InsightClientTests", dependencies: ["InsightClient", "InsightEmulator"]),
        .testTarget(name: "InsightRecordingsTests", dependencies: ["InsightRecordings"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InsightDriverTests", dependencies: ["InsightDriver", "InsightScenario", "InsightHardening"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InsightServerTests", dependencies: [
            "InsightServer", "InsightClient", "InsightRecordings", "InsightDriver", "InsightScenario", "InsightHardening",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        // The command line's own behaviour: argument errors, suggestions, progress, report paths.
        .testTarget(name: "InsightReplayCLITests", dependencies: ["insight-replay", "InsightDriver"]),
    ]
)
