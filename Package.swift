// swift-tools-version:6.0
import PackageDescription

// Module map (Docs/architecture.md):
//   CSodium        libsodium through pkg-config
//   COpenSSL       the system OpenSSL through pkg-config, for tls:// Yggdrasil links (PlanetRuntime only)
//   CPlanetShim    C helpers: planet_udp, planet_tun, planet_netif, planet_loop, planet_malloc
//   CPlanetCrypto  AEGIS-256 with the AES round instructions (libsodium 1.0.18 has none)
//   PlanetCore     identity, addresses, crypto primitives, wire helpers, config     (sans-I/O)
//   PlanetAdmin    the admin protocol: typed requests, Codable replies, structured errors, the
//                  line codec and the client; on PlanetCore alone, so planetctl needs no runtime
//   PlanetLink     link handshake, transport crypto, replay window, peer links      (sans-I/O)
//   PlanetRouting  Babel-style routing with signed origins                          (sans-I/O)
//   PlanetCapacity signed capacity records, their directory and gossip, the finder  (sans-I/O)
//   PlanetSim      planetsim's engine: routers over simulated links, virtual time   (sans-I/O)
//   PlanetNode     links + routing + end-to-end sessions + data plane composed       (sans-I/O)
//   PlanetYggdrasil Yggdrasil 0.5's link protocol: meta handshake, ironwood framing and tree
//                  messages, bloom filters (sans-I/O; the interop work, issue 23)
//   PlanetRuntime  Linux I/O: UDP sockets, TUN, admin socket, explorer page, event loop, signals,
//                  the Yggdrasil tcp:// and tls:// transport
//   PlanetControl  planetctl's command parsing and tables over PlanetAdmin (planetd does not
//                  link it; it does not link PlanetRuntime)
//   PlanetTesting  test harnesses and doubles shared by the test targets, the runtime's in-memory
//                  doubles among them (no executable links it, so no product carries them)
//   PlanetFuzz     the decoders' fuzz targets (Docs/security.md, "Fuzzing"); planetfuzz runs them,
//                  under libFuzzer when Tools/fuzz builds it with -sanitize=fuzzer,address
//   CPlanetFuzzer  the declaration of libFuzzer's LLVMFuzzerRunDriver
//   planethostile  the tests' hostile node, on the link layer alone: `flood` links and then misbehaves
//                  (test_hostile_peer.sh), `tamper-capacity` relays capacity records one byte off
//                  (test_capacity_hostile.sh); not a product, never installed
//   planetyggpeer  the tests' Yggdrasil peer: the runtime's tcp:// and tls:// transport answering
//                  SigReqs, against a real yggdrasil (test_yggdrasil05_link.sh); not a product
//   planetloadgen  Tools/loadgen: N stub nodes on one thread against a target planetd (Docs/scale.md,
//                  "A public hub"); not a product, never installed
//   planetd, planetctl, planetsim  executables; planetd links neither PlanetControl, PlanetSim
//                  nor PlanetTesting
//   Tests: <Module>Tests per Swift library (not PlanetTesting); Integration runs real planetd
// Release builds drop Swift's run-time exclusivity checks in the library modules: on the data
// path they cost ~4% of each daemon's CPU (profiled), and the debug builds the tests run keep them.
let fastRelease: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Planetary",
    products: [
        .executable(name: "planetd", targets: ["planetd"]),
        .executable(name: "planetctl", targets: ["planetctl"]),
        .executable(name: "planetsim", targets: ["planetsim"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            path: "Sources/CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // The system OpenSSL, for tls:// Yggdrasil links (libsodium has no TLS); PlanetRuntime only.
        .systemLibrary(
            name: "COpenSSL",
            path: "Sources/COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "CPlanetShim"),
        .target(name: "CPlanetCrypto", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "PlanetCore", dependencies: ["CSodium"], swiftSettings: fastRelease),
        .target(name: "PlanetLink", dependencies: ["PlanetCore", "CSodium", "CPlanetCrypto"], swiftSettings: fastRelease),
        .target(name: "PlanetRouting", dependencies: ["PlanetCore"], swiftSettings: fastRelease),
        .target(name: "PlanetCapacity", dependencies: ["PlanetCore"], swiftSettings: fastRelease),
        .target(name: "PlanetYggdrasil", dependencies: ["PlanetCore"], swiftSettings: fastRelease),
        .target(name: "PlanetAdmin", dependencies: ["PlanetCore"]),
        .target(name: "PlanetNode", dependencies: ["PlanetCore", "PlanetAdmin", "PlanetLink", "PlanetRouting", "PlanetCapacity"], swiftSettings: fastRelease),
        .target(name: "PlanetRuntime", dependencies: ["PlanetCore", "PlanetAdmin", "PlanetLink", "PlanetNode", "PlanetCapacity", "PlanetYggdrasil", "CPlanetShim", "COpenSSL"], swiftSettings: fastRelease),
        .executableTarget(name: "planetd", dependencies: ["PlanetCore", "PlanetRuntime"]),
        .target(name: "PlanetControl", dependencies: ["PlanetCore", "PlanetAdmin", "PlanetCapacity"]),
        .target(name: "PlanetTesting", dependencies: ["PlanetCore", "PlanetAdmin", "PlanetLink", "PlanetRouting", "PlanetNode", "PlanetRuntime", "CPlanetShim"]),
        .executableTarget(name: "planetctl", dependencies: ["PlanetCore", "PlanetAdmin", "PlanetControl"]),
        .target(name: "PlanetSim", dependencies: ["PlanetCore", "PlanetRouting", "PlanetCapacity"], swiftSettings: fastRelease),
        .executableTarget(name: "planetsim", dependencies: ["PlanetCore", "PlanetSim", "PlanetCapacity"]),
        .target(name: "PlanetFuzz", dependencies: ["PlanetCore", "PlanetAdmin", "PlanetLink", "PlanetRouting", "PlanetNode", "PlanetRuntime", "PlanetCapacity", "PlanetYggdrasil", "CPlanetCrypto"]),
        .target(name: "CPlanetFuzzer"),
        .executableTarget(name: "planetfuzz", dependencies: ["PlanetFuzz", "CPlanetFuzzer"]),
        // The integration tests' hostile node (Sources/planethostile/main.swift); not a product,
        // never installed, and it needs nothing of planetd's beyond the sans-I/O core.
        .executableTarget(name: "planethostile", dependencies: ["PlanetCore", "PlanetLink", "PlanetRouting", "PlanetCapacity", "PlanetNode"]),
        // The integration tests' Yggdrasil peer (Sources/planetyggpeer/main.swift): the runtime's
        // tcp:// and tls:// transport with a SigReq responder, against a real yggdrasil 0.5.12
        // (test_yggdrasil05_link.sh); not a product, never installed.
        .executableTarget(name: "planetyggpeer", dependencies: ["PlanetCore", "PlanetYggdrasil", "PlanetRuntime"]),
        // Tools/loadgen's engine (Sources/planetloadgen): N stub nodes (the real Node) on one thread
        // against one target planetd, measuring how it holds them (Docs/scale.md, "A public hub");
        // not a product, never installed.
        .executableTarget(name: "planetloadgen", dependencies: ["PlanetCore", "PlanetNode", "PlanetRuntime", "CPlanetShim"], swiftSettings: fastRelease),
        .testTarget(name: "PlanetCoreTests", dependencies: ["PlanetCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PlanetLinkTests", dependencies: ["PlanetLink", "PlanetTesting", "CPlanetCrypto"]),
        .testTarget(name: "PlanetRoutingTests", dependencies: ["PlanetRouting", "PlanetTesting"]),
        .testTarget(name: "PlanetSimTests", dependencies: ["PlanetSim", "PlanetRouting"]),
        .testTarget(name: "PlanetCapacityTests", dependencies: ["PlanetCapacity"]),
        .testTarget(name: "PlanetAdminTests", dependencies: ["PlanetAdmin"]),
        .testTarget(name: "PlanetNodeTests", dependencies: ["PlanetNode", "PlanetAdmin", "PlanetTesting"]),
        .testTarget(name: "PlanetRuntimeTests", dependencies: ["PlanetRuntime", "PlanetAdmin", "PlanetTesting"]),
        .testTarget(name: "PlanetControlTests", dependencies: ["PlanetControl", "PlanetAdmin", "PlanetTesting"]),
        .testTarget(name: "PlanetYggdrasilTests", dependencies: ["PlanetYggdrasil"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PlanetFuzzTests", dependencies: ["PlanetFuzz"]),
    ]
)
