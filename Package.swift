// swift-tools-version:6.0
import PackageDescription

// Every daemon is a thin executable over a library target that holds its logic,
// so tests call the domain directly and the integration tests start the real binaries.
let strictConcurrency: [SwiftSetting] = [.enableUpcomingFeature("StrictConcurrency")]

// Products of other packages, named once. Every target names each module it imports (scripts/check-imports).
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let nioConcurrencyHelpers: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let hummingbirdCore: Target.Dependency = .product(name: "HummingbirdCore", package: "hummingbird")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let webSocketClient: Target.Dependency = .product(name: "WSClient", package: "swift-websocket")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let coreMetrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")

/// What every daemon's library builds on, plus what it alone needs.
func core(_ extra: Target.Dependency...) -> [Target.Dependency] {
    ["BagbotDomain", "BagbotIPC", "BagbotStorage", "BagbotRuntime", logging, serviceLifecycle, nioConcurrencyHelpers, metrics] + extra
}

let package = Package(
    name: "bagbot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "mindsetd", targets: ["mindsetd"]),
        .executable(name: "arsenald", targets: ["arsenald"]),
        .executable(name: "routerd", targets: ["routerd"]),
        .executable(name: "bagbot", targets: ["bagbot"]),
        .executable(name: "ipc-benchmark", targets: ["IPCBenchmark"]),
        .executable(name: "order-benchmark", targets: ["OrderBenchmark"]),
        .executable(name: "mindset-benchmark", targets: ["MindsetBenchmark"]),
        .executable(name: "strategy-benchmark", targets: ["StrategyBenchmark"]),
        .executable(name: "backtest-benchmark", targets: ["BacktestBenchmark"]),
        .executable(name: "binance-benchmark", targets: ["BinanceBenchmark"]),
        .executable(name: "gateway-baseline", targets: ["GatewayBaseline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
                "BagbotDomain", nioCore, nioPosix, nioConcurrencyHelpers, logging,
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strictConcurrency
        ),
        .target(
            name: "BagbotStorage",
            dependencies: ["BagbotDomain", grdb],
            swiftSettings: strictConcurrency
        ),
        .target(
            name: "BagbotRuntime",
            dependencies: [
                "BagbotDomain", "BagbotIPC", "BagbotStorage", "CSystemd", "CCrypto", logging, serviceLifecycle, argumentParser,
                .product(name: "Yams", package: "Yams"), metrics, coreMetrics, prometheus,
            ],
            swiftSettings: strictConcurrency
        ),
        .target(name: "MindsetCore", dependencies: core(), swiftSettings: strictConcurrency),
        .target(name: "ArsenalCore", dependencies: core(nioCore, nioPosix), swiftSettings: strictConcurrency),
        // Venues reach their exchanges over HTTP with AsyncHTTPClient and over WebSocket with swift-websocket (Venues/Binance).
        .target(name: "RouterCore", dependencies: core(grdb, asyncHTTPClient, webSocketClient, nioCore, nioPosix, nioHTTP1),
                swiftSettings: strictConcurrency),
        .target(
            name: "GatewayCore",
            dependencies: core(hummingbird, hummingbirdCore, grdb, nioCore, .product(name: "HTTPTypes", package: "swift-http-types")),
            // The web dashboard's static files, copied beside the binaries (`DashboardMiddleware.directory`).
            resources: [.copy("Dashboard")],
            swiftSettings: strictConcurrency
        ),
        .target(
            name: "SupervisorCore",
            dependencies: core(.product(name: "Subprocess", package: "swift-subprocess"), .product(name: "SystemPackage", package: "swift-system")),
            swiftSettings: strictConcurrency),
        // `bagbot backtest`: the arsenal's trade path over the mindset engine and the paper fill model, in one process.
        .target(
            name: "BacktestCore",
            dependencies: ["ArsenalCore", "MindsetCore", "RouterCore", "BagbotDomain", "BagbotIPC", "BagbotRuntime", logging, nioConcurrencyHelpers],
            swiftSettings: strictConcurrency),

        .executableTarget(name: "mindsetd", dependencies: ["MindsetCore", "BagbotRuntime", argumentParser], swiftSettings: strictConcurrency),
        .executableTarget(name: "arsenald", dependencies: ["ArsenalCore", "BagbotRuntime", argumentParser], swiftSettings: strictConcurrency),
        .executableTarget(name: "routerd", dependencies: ["RouterCore", "BagbotRuntime", argumentParser], swiftSettings: strictConcurrency),
        .executableTarget(name: "gateway", dependencies: ["GatewayCore", "BagbotRuntime", argumentParser], swiftSettings: strictConcurrency),
        .executableTarget(
            name: "bagbot",
            dependencies: [
                "SupervisorCore", "BacktestCore", "BagbotRuntime", "BagbotDomain", argumentParser, logging,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictConcurrency
        ),
        .executableTarget(
            name: "IPCBenchmark",
            dependencies: ["BagbotIPC", "BagbotRuntime", nioCore, nioPosix, nioConcurrencyHelpers, logging],
            path: "Benchmarks/IPCBenchmark",
            swiftSettings: strictConcurrency
        ),
        .executableTarget(
            name: "MindsetBenchmark",
            dependencies: ["MindsetCore", "BagbotIPC", "BagbotDomain", logging],
            path: "Benchmarks/MindsetBenchmark",
            swiftSettings: strictConcurrency
        ),
        .executableTarget(
            name: "StrategyBenchmark",
            dependencies: ["ArsenalCore", "BagbotDomain"],
            path: "Benchmarks/StrategyBenchmark",
            swiftSettings: strictConcurrency
        ),
        .executableTarget(
            name: "BacktestBenchmark",
            dependencies: ["BacktestCore", "RouterCore", "BagbotRuntime", "BagbotDomain", logging],
            path: "Benchmarks/BacktestBenchmark",
            swiftSettings: strictConcurrency
        ),
        .executableTarget(
            name: "OrderBenchmark",
            dependencies: ["RouterCore", "BagbotStorage", "BagbotIPC", "BagbotDomain", grdb, logging],
            path: "Benchmarks/OrderBenchmark",
            swiftSettings: strictConcurrency
        ),
        .executableTarget(
            name: "BinanceBenchmark",
            dependencies: ["RouterCore", "BagbotIPC", "BagbotDomain", asyncHTTPClient, nioCore, nioPosix, logging],
            path: "Benchmarks/BinanceBenchmark",
            swiftSettings: strictConcurrency
        ),

        .executableTarget(
            name: "GatewayBaseline",
            dependencies: [hummingbird, logging],
            path: "Benchmarks/GatewayBaseline",
            swiftSettings: strictConcurrency
        ),

        // Helpers every test target shares (temporary directories, waiting, config loading); not part of any product.
        .target(
            name: "BagbotTestSupport",
            dependencies: ["BagbotRuntime", logging, asyncHTTPClient, nioCore, nioHTTP1],
            path: "Tests/Support"),
        .testTarget(name: "BagbotDomainTests", dependencies: ["BagbotDomain", "BagbotTestSupport"]),
        .testTarget(
            name: "BagbotIPCTests",
            dependencies: ["BagbotIPC", "BagbotTestSupport", nioCore, nioPosix, nioEmbedded, nioConcurrencyHelpers, logging]),
        .testTarget(
            name: "BagbotStorageTests",
            dependencies: ["BagbotStorage", "BagbotTestSupport", grdb]),
        .testTarget(
            name: "BagbotRuntimeTests",
            dependencies: ["BagbotRuntime", "BagbotTestSupport", logging, .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(
            name: "MindsetCoreTests",
            dependencies: [
                "MindsetCore", "BagbotTestSupport", logging, nioConcurrencyHelpers,
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "ArsenalCoreTests",
            dependencies: [
                "ArsenalCore", "RouterCore", "BagbotTestSupport", logging, nioConcurrencyHelpers,
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]),
        .testTarget(name: "BacktestCoreTests", dependencies: ["BacktestCore", "ArsenalCore", "BagbotTestSupport", "BagbotRuntime", logging, nioConcurrencyHelpers]),
        .testTarget(name: "SupervisorCoreTests", dependencies: ["SupervisorCore", "BagbotTestSupport", logging]),
        .testTarget(name: "RouterCoreTests", dependencies: ["RouterCore", "BagbotTestSupport", grdb, logging, nioCore, nioConcurrencyHelpers,
                                                           metrics, .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: [
                "GatewayCore", "BagbotTestSupport", "BagbotStorage", "BagbotRuntime", "BagbotIPC", "BagbotDomain",
                grdb, hummingbird, hummingbirdCore, nioCore, nioEmbedded, logging, serviceLifecycle,
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        .testTarget(
            name: "IntegrationTests",
            // Depending on the executables makes `swift test` build them; the tests start them as processes.
            dependencies: [
                "BagbotRuntime", "BagbotTestSupport", "gateway", "mindsetd", "arsenald", "routerd", "bagbot",
                grdb, logging, nioCore,
            ]
        ),
    ]
)
