#if canImport(Glibc)
import Glibc
#endif

// planethostile: a node that misbehaves on purpose, so the integration tests can show what
// honest planetd nodes do with a hostile neighbour. Built on the project's own link layer over
// a plain UDP socket (`HostileLink`); never installed, not a product, and nothing in planetd
// exists for it.
//
//   planethostile flood --listen PORT --peer [ADDR]:PORT MODE COUNT
//       links to the peer, then sends (Tests/Integration/test_hostile_peer.sh):
//       malformed   COUNT inner frames of every type, random lengths and bytes
//       origins     COUNT genuinely signed routes for fresh keys (fake origins)
//       retract     COUNT retractions and absurd-metric refreshes for random keys
//       replay      the first signed update sent COUNT times (replayed, same seqno)
//       sessions    COUNT session inits to the peer's own overlay address
//       records     100 re-announcements of one key (far faster than its rate limit),
//                   then COUNT genuinely signed capacity records for fresh keys
//       Prints one line: what it sent. Exit 1 if it cannot link in 10 s.
//
//   planethostile tamper-capacity --listen PORT [--peer [ADDR]:PORT]...
//       a relay that sends every capacity record on with one byte of its memory total
//       changed (Tests/Integration/test_capacity_hostile.sh); runs until killed.
//
// Exit 2 on bad arguments.

let usage = "usage: planethostile flood --listen PORT --peer [ADDR]:PORT MODE COUNT\n" +
            "       planethostile tamper-capacity --listen PORT [--peer [ADDR]:PORT]..."

var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { die(2, usage) }
args.removeFirst()

/// Removes every `flag VALUE` from the arguments and returns the values.
@MainActor func take(_ flag: String) -> [String] {
    var values: [String] = []
    while let i = args.firstIndex(of: flag) {
        guard i + 1 < args.count else { die(2, "\(flag) needs a value") }
        values.append(args[i + 1])
        args.removeSubrange(i...(i + 1))
    }
    return values
}

guard let listenText = take("--listen").last, let listenPort = UInt16(listenText) else { die(2, "--listen PORT is required\n" + usage) }
let peers = take("--peer").map(Peer.init)

switch command {
case "flood":
    guard peers.count == 1, args.count == 2, let count = Int(args[1]), count >= 0 else { die(2, usage) }
    let mode = args[0]
    guard Flood.modes.contains(mode) else { die(2, "unknown MODE '\(mode)'") }
    let flood = Flood(link: HostileLink(listenPort: listenPort), peer: peers[0])
    flood.run(mode, count: count)
    print("planethostile \(mode): \(flood.sent) frames sent to \(flood.target.short) over a live link")
case "tamper-capacity":
    guard args.isEmpty else { die(2, usage) }
    TamperCapacity(link: HostileLink(listenPort: listenPort), peers: peers).run()
default:
    die(2, "unknown command '\(command)'\n" + usage)
}
