import Foundation
import PlanetCore
import PlanetRuntime
#if canImport(Glibc)
import Glibc
#endif

// planetfault: a planetd node that misbehaves on purpose, so integration tests can show what
// honest nodes do with a hostile neighbour. Never installed; built only for the tests.
//
//   planetfault tamper-capacity --config FILE
//       runs the node as planetd would, except that every capacity record it sends a
//       neighbour (relayed by flooding or by reconciliation) has one byte of its memory
//       total changed: a record for another key, one byte off, signature untouched.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("planetfault: " + message + "\n").utf8))
    exit(2)
}

var argv = Array(CommandLine.arguments.dropFirst())
guard argv.first == "tamper-capacity" else { fail("usage: planetfault tamper-capacity --config FILE") }
argv.removeFirst()
let args: Arguments
do { args = try Arguments(argv, valued: ["config"], flags: []) } catch { fail(error.description) }
guard let path = args.value("config") else { fail("--config FILE is required") }

do {
    let config = try ConfigLoader.load(path: path)
    let logger = StderrLog.logger(level: config.logLevel)
    Signals.blockTermination()
    let identity = try ConfigLoader.identity(for: config, create: true, logger: logger)
    try ConfigLoader.ensureDirectory(config.stateDir)
    let runner = try NodeRunner(config: config, identity: identity, logger: logger)
    // Byte 77 is inside the record's total memory (`mru`, big-endian at offsets 74-81,
    // Docs/protocol.md): 0x10 there is 2³⁶ bytes, 64 GiB more, a lie worth telling.
    runner.node.capacity.gossip.outgoingRecordTransform = { record in
        var forged = record
        if forged.count > 81 { forged[77] ^= 0x10 }
        return forged
    }
    logger.warn("planetfault: tampering with every capacity record sent", [("publicKey", identity.publicKey.hex)])
    let waiter = Thread {
        _ = Signals.waitForTermination()
        runner.stop()
    }
    waiter.start()
    try runner.run()
} catch {
    fail(error.description)
}
