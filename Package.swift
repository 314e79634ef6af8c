// swift-tools-version:6.0
import PackageDescription

// Every daemon is a thin executable over a library target that holds its logic,
// so tests call the domain directly and the integration tests start the real binaries.
let strictConcurrency: [SwiftSetting] = [.enableUpcomingFeature("StrictConcurrency")]

/// What every daemon's library builds on, plus what it alone needs.
func core(_ extra: Target.Dependency...) -> [Target.Dependency] {
    ["BagbotDomain", "BagbotIPC", "BagbotStorage", "BagbotRuntime"] + extra
}

let package = Package(
    name: "bagbot",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "mindsetd", targets: ["mindsetd"]),
        .executable(name: "arsenald", targets: ["arsenald"]),
        .executable(name: "routerd", targets: ["routerd"]),
        .executable(name: "bagbot", targets: ["bagbot"]),
        .executable(name: "ipc-benchmark", targets: ["IPCBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries, found with pkg-config; .ci/run and scripts/bootstrap install the -dev packages.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // The target graph (docs/architecture.md): each target depends only on those below it.
        //   executables → *Core → BagbotRuntime → BagbotIPC, BagbotStorage → BagbotDomain
        .target(name: "BagbotDomain", swiftSettings: strictConcurrency),
        .target(
            name: "BagbotIPC",
            dependencies: [
                "BagbotDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictConcurrency
        ),
        .target(
            name: "BagbotStorage",
            dependencies: ["BagbotDomain", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictConcurrency
        ),
        .target(
            name: "BagbotRuntime",
            dependencies: [
                "BagbotDomain", "BagbotIPC", "BagbotStorage", "CSystemd", "CCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictConcurrency
        ),
        .target(name: "MindsetCore", dependencies: core(), swiftSettings: strictConcurrency),
        .target(name: "ArsenalCore", dependencies: core(.product(name: "NIOPosix", package: "swift-nio")), swiftSettings: strictConcurrency),
        .target(name: "RouterCore", dependencies: core(.product(name: "GRDB", package: "GRDB.swift")), swiftSettings: strictConcurrency),
        .target(
            name: "GatewayCore",
            dependencies: core(
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift")),
            swiftSettings: strictConcurrency
        ),
        .target(name: "SupervisorCore", dependencies: core(), swiftSettings: strictConcurrency),

        .executableTarget(name: "mindsetd", dependencies: ["MindsetCore", "BagbotRuntime"], swiftSettings: strictConcurrency),
        .executableTarget(name: "arsenald", dependencies: ["ArsenalCore", "BagbotRuntime"], swiftSettings: strictConcurrency),
        .executableTarget(name: "routerd", dependencies: ["RouterCore", "BagbotRuntime"], swiftSettings: strictConcurrency),
        .executableTarget(name: "gateway", dependencies: ["GatewayCore", "BagbotRuntime"], swiftSettings: strictConcurrency),
        .executableTarget(
            name: "bagbot",
            dependencies: ["SupervisorCore", "BagbotRuntime", .product(name: "UnixSignals", package: "swift-service-lifecycle")],
            swiftSettings: strictConcurrency
        ),
        .executableTarget(
            name: "IPCBenchmark",
            dependencies: ["BagbotIPC", "BagbotRuntime"],
            path: "Benchmarks/IPCBenchmark",
            swiftSettings: strictConcurrency
        ),

        // Helpers every test target shares (temporary directories, waiting, config loading); not part of any product.
        .target(
            name: "BagbotTestSupport",
            dependencies: ["BagbotRuntime", .product(name: "Logging", package: "swift-log")],
            path: "Tests/Support"),
        .testTarget(name: "BagbotDomainTests", dependencies: ["BagbotDomain", "BagbotTestSupport"]),
        .testTarget(name: "BagbotIPCTests", dependencies: ["BagbotIPC", "BagbotTestSupport"]),
        .testTarget(
            name: "BagbotStorageTests",
            dependencies: ["BagbotStorage", "BagbotTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "BagbotRuntimeTests", dependencies: ["BagbotRuntime", "BagbotTestSupport"]),
        .testTarget(
            name: "MindsetCoreTests",
            dependencies: [
                "MindsetCore", "BagbotTestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]),
        .testTarget(name: "ArsenalCoreTests", dependencies: ["ArsenalCore", "BagbotTestSupport"]),
        .testTarget(name: "RouterCoreTests", dependencies: ["RouterCore", "BagbotTestSupport"]),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "BagbotTestSupport"]),
        .testTarget(
            name: "IntegrationTests",
            // Depending on the executables makes `swift test` build them; the tests start them as processes.
            dependencies: [
                "BagbotRuntime", "BagbotTestSupport", "gateway", "mindsetd", "arsenald", "routerd", "bagbot",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
