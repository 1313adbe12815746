// swift-tools-version:6.0
import PackageDescription

// Module map (see Docs/architecture.md):
//   PlanetCore     identity, addresses, crypto primitives, wire helpers, config   (sans-I/O)
//   PlanetRuntime  Linux I/O: sockets, TUN, admin socket, event loop, signals
//   planetd        the daemon; planetctl the admin CLI
let package = Package(
    name: "Planetary",
    products: [
        .executable(name: "planetd", targets: ["planetd"]),
        .executable(name: "planetctl", targets: ["planetctl"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            path: "Sources/CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "PlanetCore", dependencies: ["CSodium"]),
        .target(name: "PlanetRuntime", dependencies: ["PlanetCore"]),
        .executableTarget(name: "planetd", dependencies: ["PlanetCore", "PlanetRuntime"]),
        .executableTarget(name: "planetctl", dependencies: ["PlanetCore", "PlanetRuntime"]),
        .testTarget(
            name: "PlanetCoreTests",
            dependencies: ["PlanetCore"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
