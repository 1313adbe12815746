#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PlanetCore
import PlanetRuntime

// planetloadgen: N real nodes (the project's own `Node`, stubs, each with its own key, UDP
// port and source address) in one process against one target planetd, over real sockets;
// measures how the target holds them (Docs/scale.md, "A public hub (Tools/loadgen)").
//
//   planetloadgen --peer URI --nodes N --pings K [--json] [--idle SECONDS] [--rate NODES_PER_SECOND]
//                 [--link-timeout SECONDS] [--ping-timeout SECONDS] [--target-pid PID]
//
// Phases: start the nodes (--rate per second) and wait until all are linked (or
// --link-timeout); measure --idle seconds of idle traffic (and the target's CPU and memory with
// --target-pid); send K pings between random pairs of linked nodes through the target. Prints
// the figures (one JSON object on one line with --json). Exit 2 on bad arguments, 1 when the
// nodes cannot be started, else 0: the figures say how it went.

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))

func endpoint(of uri: PeerURI) -> Endpoint {
    if uri.hostIsIPv6Literal {
        guard let a = IPv6Address(uri.host) else { Options.fail("--peer", "host must be an IP literal, got '\(uri.host)'") }
        return Endpoint(address: a, port: uri.port)
    }
    let parts = uri.host.split(separator: ".").compactMap { UInt8($0) }
    guard parts.count == 4 else { Options.fail("--peer", "host must be an IP literal, got '\(uri.host)'") }
    return Endpoint(ipv4: parts[0], parts[1], parts[2], parts[3], port: uri.port)
}
let target = endpoint(of: options.peer)

/// One descriptor per node plus a few: raised to what the hard limit allows (root may raise that too).
func raiseFileLimit(to want: Int) {
    var r = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    if r.rlim_cur >= rlim_t(want) { return }
    if r.rlim_max < rlim_t(want) {
        var raised = rlimit(rlim_cur: rlim_t(want), rlim_max: rlim_t(want))
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return }
    }
    r.rlim_cur = min(r.rlim_max, rlim_t(want))
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    if r.rlim_cur < rlim_t(want) {
        FileHandleOut.stderr("planetloadgen: only \(r.rlim_cur) file descriptors allowed; \(want) wanted (run as root or raise ulimit -n)")
    }
}
raiseFileLimit(to: options.nodes + 64)

let generator: Generator
do { generator = try Generator(options: options, target: target) } catch {
    FileHandleOut.stderr("planetloadgen: \(error)")
    exit(1)
}
if !(target.isIPv4 && options.peer.host.hasPrefix("127.")) {
    FileHandleOut.stderr("planetloadgen: all nodes share one source address: the target's per-source handshake limit paces linking")
}

func targetStats() -> ProcStats? { options.targetPID.flatMap { ProcStats.read(String($0)) } }

// Phase 1: start and link.
let began = MonotonicClock.now()
var lastCheck = began
do {
    while generator.nodes.count < options.nodes {
        let now = MonotonicClock.now()
        let due = options.rate <= 0 ? options.nodes : min(options.nodes, Int(now.seconds(since: began) * options.rate) + 1)
        while generator.nodes.count < due { try generator.startNode(now: MonotonicClock.now()) }
        generator.turn(maxWait: 0.005)
        if now.seconds(since: lastCheck) >= 0.1 { generator.checkLinked(now: now); lastCheck = now }
    }
} catch {
    FileHandleOut.stderr("planetloadgen: cannot start node \(generator.nodes.count): \(error)")
    exit(1)
}
let started = MonotonicClock.now()
generator.run(for: max(0, options.linkTimeout - started.seconds(since: began))) {
    let now = MonotonicClock.now()
    if now.seconds(since: lastCheck) >= 0.1 { generator.checkLinked(now: now); lastCheck = now }
    return generator.linkedCount == options.nodes
}
generator.checkLinked(now: MonotonicClock.now())
let linkSeconds = (generator.lastLinkedAt ?? MonotonicClock.now()).seconds(since: began)
let linkedEnd = MonotonicClock.now()

// Phase 2: the idle window.
let idleTargetBefore = targetStats()
let idleBytesBefore = generator.bytesSent + generator.bytesReceived
let idleDatagramsBefore = generator.datagramsSent + generator.datagramsReceived
let idleBegan = MonotonicClock.now()
generator.run(for: options.idle)
let idleSeconds = MonotonicClock.now().seconds(since: idleBegan)
let idleTargetAfter = targetStats()
let idleBytes = generator.bytesSent + generator.bytesReceived - idleBytesBefore
let idleDatagrams = generator.datagramsSent + generator.datagramsReceived - idleDatagramsBefore
let upAfterIdle = generator.upCount

// Phase 3: pings between random pairs of linked nodes.
let pingBegan = MonotonicClock.now()
let linkedNodes = generator.nodes.indices.filter { generator.nodes[$0].isLinked }
if options.pings > 0 && linkedNodes.count >= 2 {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<options.pings {
        let a = linkedNodes.randomElement(using: &rng)!
        var b = a
        while b == a { b = linkedNodes.randomElement(using: &rng)! }
        generator.ping(from: a, to: b, now: MonotonicClock.now())
        generator.run(for: options.pingInterval)
    }
    generator.run(for: options.pingTimeout) {
        generator.pinger.expire(now: MonotonicClock.now(), timeout: options.pingTimeout)
        return generator.pinger.outstanding.isEmpty
    }
    generator.pinger.expire(now: MonotonicClock.now(), timeout: 0)
}
if ProcessInfo.processInfo.environment["PLANETLOADGEN_DEBUG"] != nil {
    // Why pings were lost: every node's non-zero drop counters, summed.
    var sums: [String: UInt64] = [:]
    for v in generator.nodes {
        for (k, n) in v.node.stats.drops.report() { sums[k, default: 0] += n }
        for (k, n) in v.node.router.stats.drops.report(prefix: "route-") { sums[k, default: 0] += n }
        sums["tunTx", default: 0] += v.node.stats.tunTxPackets
        sums["tunRx", default: 0] += v.node.stats.tunRxPackets
        sums["sessionsEstablished", default: 0] += v.node.stats.sessionsEstablished
    }
    FileHandleOut.stderr("planetloadgen debug: \(sums.sorted { $0.key < $1.key })")
}
let pingSeconds = MonotonicClock.now().seconds(since: pingBegan)
let targetEnd = targetStats()
let own = ProcStats.read("self") ?? ProcStats()

// The report.
func fixed(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
var fields: [(String, String)] = [
    ("nodes", "\(options.nodes)"),
    ("linked", "\(generator.linkedCount)"),
    ("secondsToLink", fixed(linkSeconds, 2)),
    ("handshakesPerSecond", fixed(linkSeconds > 0 ? Double(generator.linkedCount) / linkSeconds : 0)),
    ("startSeconds", fixed(started.seconds(since: began), 2)),
    ("upAfterIdle", "\(upAfterIdle)"),
    ("pingsSent", "\(generator.pinger.sent)"),
    ("pingsAnswered", "\(generator.pinger.answered)"),
    ("pingSeconds", fixed(pingSeconds, 2)),
    ("pingMaxRTTMilliseconds", fixed((generator.pinger.roundTrips.max() ?? 0) * 1000, 1)),
    ("idleSeconds", fixed(idleSeconds, 1)),
    ("controlBytesPerSecond", fixed(idleSeconds > 0 ? Double(idleBytes) / idleSeconds : 0)),
    ("controlDatagramsPerSecond", fixed(idleSeconds > 0 ? Double(idleDatagrams) / idleSeconds : 0)),
    ("bytesSent", "\(generator.bytesSent)"),
    ("bytesReceived", "\(generator.bytesReceived)"),
    ("sendFailures", "\(generator.sendFailures)"),
    ("generatorRSSBytes", "\(own.rssBytes)"),
    ("generatorHWMBytes", "\(own.hwmBytes)"),
    ("generatorCPUSeconds", fixed(own.cpuSeconds, 2)),
]
if let b = idleTargetBefore, let a = idleTargetAfter {
    fields.append(("targetIdleCPUPercent", fixed(idleSeconds > 0 ? (a.cpuSeconds - b.cpuSeconds) / idleSeconds * 100 : 0, 2)))
}
if let t = targetEnd {
    fields.append(("targetRSSBytes", "\(t.rssBytes)"))
    fields.append(("targetHWMBytes", "\(t.hwmBytes)"))
}
_ = linkedEnd
if options.json {
    print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
} else {
    for (k, v) in fields { print("\(k): \(v)") }
}
