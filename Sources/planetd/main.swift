import Foundation
import PlanetCore
import PlanetRuntime
#if canImport(Glibc)
import Glibc
#endif

// planetd: the Planetary daemon. Subcommands: run, genconf, address, subnet.
// Usage errors and bad configs print one line and exit 2.

let usage = """
usage: planetd COMMAND [OPTIONS]

commands:
  run --config FILE        start the node (creates its key on first start if the config has none)
  genconf [--from-yggdrasil FILE]
                           print a complete config with a fresh key (or the key of a Yggdrasil config)
  address --config FILE    print the node's overlay address (in 200::/7)
  subnet --config FILE     print the node's routed /64 (in 300::/8)

options:
  --help                   help for planetd or for a command
  --version                print the version
"""

let commandHelp: [String: String] = [
    "run": """
    usage: planetd run --config FILE

    Starts the node with FILE's settings. If the config has no privateKey, the key is read from
    <stateDir>/private.key, which is created (mode 0600, directory 0700) on first start.
    Stops cleanly on SIGINT or SIGTERM. A bad config prints one line naming the field and exits 2.
    """,
    "genconf": """
    usage: planetd genconf [--from-yggdrasil FILE]

    Prints a complete JSON config with every key at its default and a freshly generated privateKey.
    With --from-yggdrasil, takes PrivateKey from a Yggdrasil config (JSON or HJSON), so the node keeps
    its Yggdrasil address and subnet.
    """,
    "address": "usage: planetd address --config FILE\n\nPrints the overlay address derived from the node key, like 'yggdrasil -address'.",
    "subnet": "usage: planetd subnet --config FILE\n\nPrints the node's /64, like 'yggdrasil -subnet'.",
]

func fail(_ message: String, code: Int32 = 2) -> Never {
    StandardStreams.err("planetd: " + message + "\n")
    exit(code)
}

// Before anything is written: a closed stdout or stderr must cost output, never the process
// (StandardStreams.swift); every line below goes through StandardStreams, not print.
StandardStreams.ignoreBrokenPipe()

/// One line (or block) to stdout.
func say(_ text: String) { StandardStreams.out(text + "\n") }

var argv = Array(CommandLine.arguments.dropFirst())
if argv.isEmpty { say(usage); exit(2) }
if argv.first == "--version" || argv.first == "-version" { say("planetd \(PlanetVersion.string)"); exit(0) }
if argv.first == "--help" || argv.first == "-h" || argv.first == "help" { say(usage); exit(0) }

let command = argv.removeFirst()
guard let help = commandHelp[command] else { fail("unknown command '\(command)'; see planetd --help") }

let args: Arguments
do {
    switch command {
    case "genconf": args = try Arguments(argv, valued: ["from-yggdrasil"], flags: ["help"])
    default: args = try Arguments(argv, valued: ["config"], flags: ["help"])
    }
} catch { fail("\(command): \(error.description)") }
if args.has("help") { say(help); exit(0) }
if let extra = args.positionals.first { fail("\(command): unexpected argument '\(extra)'") }

@MainActor func loadConfig() -> NodeConfig {
    guard let path = args.value("config") else { fail("\(command): --config FILE is required") }
    do { return try ConfigLoader.load(path: path) } catch { fail(error.description) }
}

switch command {
case "genconf":
    var config = NodeConfig()
    if let path = args.value("from-yggdrasil") {
        guard let data = FileManager.default.contents(atPath: path) else { fail("genconf: cannot read \(path)") }
        do { config.privateKey = try YggdrasilConfig.privateKey(fromConfigText: String(decoding: data, as: UTF8.self)) } catch {
            fail("genconf: \(path): \(error.field): \(error.reason)")
        }
    } else {
        config.privateKey = NodeIdentity.generate()
    }
    say(config.json().serialized(pretty: true))

case "address", "subnet":
    let config = loadConfig()
    do {
        let id = try ConfigLoader.identity(for: config, create: false)
        say(command == "address" ? id.address.description : id.subnet.description)
    } catch { fail(error.description) }

case "run":
    // Packet-sized buffers stay in the heap (HeapTuning explains why).
    HeapTuning.keepPacketBuffers()
    let config = loadConfig()
    // Named like every other config error: `planetd: FILE: config: FIELD: reason`.
    if let e = CapacityProbe.checkOffer(config) { fail("\(args.value("config") ?? ""): \(e.description)") }
    let logger = StderrLog.logger(level: config.logLevel)
    Signals.blockTermination()
    do {
        let identity = try ConfigLoader.identity(for: config, create: true, logger: logger)
        try ConfigLoader.ensureDirectory(config.stateDir)
        logger.info("starting planetd", [("version", PlanetVersion.string), ("publicKey", identity.publicKey.hex),
                                         ("address", identity.address.description), ("subnet", identity.subnet.description)])
        let runner = try NodeRunner(config: config, identity: identity, logger: logger)
        let waiter = Thread {
            let sig = Signals.waitForTermination()
            logger.info("stopping", [("signal", sig == SIGINT ? "SIGINT" : "SIGTERM")])
            runner.stop()
        }
        waiter.start()
        try runner.run()
        logger.info("stopped")
    } catch { fail(error.description, code: 1) }

default:
    fail("unknown command '\(command)'")
}
