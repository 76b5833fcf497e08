// swift-tools-version:6.2
import PackageDescription

/// The targets mirror BizDirect's security contexts (see docs/ARCHITECTURE.md):
/// WebFrontEnd -> RegistrationAuthority -> (Policy, CertificateAuthority, Storage) -> BizDirectCore.
let package = Package(
    name: "bizdirect",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bizdirect", targets: ["bizdirect"]),
        .executable(name: "bizdirect-benchmarks", targets: ["BizDirectBenchmarks"]),
        .executable(name: "bizdirect-load", targets: ["BizDirectLoad"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", exact: "3.36.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", exact: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", exact: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", exact: "2.14.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
    ],
    targets: [
        .target(name: "BizDirectCore"),
        .target(name: "Policy", dependencies: ["BizDirectCore"]),
        // BizDirect's own declarations of the PKCS#11 interface and a dlopen loader (checked
        // against the real header by .ci/check-pkcs11-header).
        .target(name: "CPKCS11", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(
            name: "CertificateAuthority",
            dependencies: [
                "BizDirectCore", "CPKCS11",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Storage",
            dependencies: [
                "BizDirectCore",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RegistrationAuthority",
            dependencies: [
                "BizDirectCore", "Policy", "CertificateAuthority", "Storage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "WebFrontEnd",
            dependencies: [
                "BizDirectCore", "Policy", "RegistrationAuthority",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(
            name: "bizdirect",
            dependencies: [
                "BizDirectCore", "RegistrationAuthority", "WebFrontEnd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libFuzzer harnesses (Fuzz/run builds them with -sanitize=fuzzer,address into .build-fuzz;
        // the ordinary build makes a replay-only binary, so the harness code is always compiled).
        .executableTarget(
            name: "BizDirectFuzz",
            dependencies: ["BizDirectCore", "CertificateAuthority", "WebFrontEnd",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "X509", package: "swift-certificates")],
            path: "Fuzz/BizDirectFuzz"
        ),
        .executableTarget(
            name: "BizDirectBenchmarks",
            dependencies: ["BizDirectCore", "CertificateAuthority", "Storage", "RegistrationAuthority",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "SwiftASN1", package: "swift-asn1"),
                           .product(name: "X509", package: "swift-certificates"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // The load benchmark's seeding and in-process floods (benchmarks/load drives it). It
        // makes its sample users with the test fixtures, as a customer would through the RA.
        .executableTarget(
            name: "BizDirectLoad",
            dependencies: ["BizDirectCore", "CertificateAuthority", "Storage", "RegistrationAuthority", "TestSupport",
                           .product(name: "FluentKit", package: "fluent-kit"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "BizDirectCore", "CertificateAuthority", "Storage", "RegistrationAuthority", "WebFrontEnd",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport"
        ),
        // Each test target declares every module it imports (CI builds with
        // --explicit-target-dependency-import-check error).
        .testTarget(name: "BizDirectCoreTests", dependencies: ["BizDirectCore"]),
        .testTarget(name: "PolicyTests", dependencies: ["BizDirectCore", "Policy"]),
        .testTarget(name: "CertificateAuthorityTests", dependencies: ["BizDirectCore", "CertificateAuthority", "TestSupport",
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates")], resources: [.copy("Fixtures")]),
        .testTarget(name: "StorageTests", dependencies: ["BizDirectCore", "Storage", "TestSupport",
            .product(name: "FluentKit", package: "fluent-kit"),
            .product(name: "SQLKit", package: "sql-kit")]),
        .testTarget(name: "RegistrationAuthorityTests", dependencies: ["BizDirectCore", "CertificateAuthority", "Policy", "Storage",
            "RegistrationAuthority", "TestSupport",
            .product(name: "FluentKit", package: "fluent-kit")]),
        .testTarget(name: "WebFrontEndTests", dependencies: ["BizDirectCore", "CertificateAuthority", "RegistrationAuthority", "WebFrontEnd",
            "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "SQLKit", package: "sql-kit")]),
    ]
)
