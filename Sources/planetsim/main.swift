// planetsim: runs real PlanetRouting routers over simulated links in virtual time.
// Options: Docs/cli.md and Docs/scale.md.
import PlanetCore
import PlanetRouting
import PlanetSim
import PlanetCapacity
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: planetsim --nodes N --topology random|scale-free|line|ring|grid --degree D --seed S
                 [--fail-links K] [--churn RATE] [--crash K] [--partition] [--loss P]
                 [--steady SECONDS] [--sample SOURCES] [--origins K] [--stubs K [--stub-peers 1|2]] [--json]
       planetsim --capacity --nodes N [--topology T] [--degree D] [--seed S]
                 [--announcers K] [--announce-interval SECONDS] [--flood-hold SECONDS] [--steady SECONDS] [--json]
       planetsim --loop-cost RECORDS   what the capacity directory's save and a finder call cost the
                                       event loop with RECORDS signed records (medians of 5, ms)
"""

func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    printError("planetsim: \(message)")
    exit(2)
}

func wallClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

var config = SimulationConfig()
var capacityConfig = CapacitySimulation.Config()
var capacityMode = false
let jsonOutput: Bool
do {
    let args = try Arguments(Array(CommandLine.arguments.dropFirst()),
                             valued: ["nodes", "topology", "degree", "seed", "fail-links", "churn", "crash", "loss", "steady", "sample", "origins", "stubs", "stub-peers",
                                      "announcers", "announce-interval", "flood-hold", "loop-cost"],
                             flags: ["partition", "json", "help", "quiet", "capacity"])
    if args.has("help") { print(usage); exit(0) }
    if args.value("loop-cost") != nil {
        let n = try args.int("loop-cost", default: 100_000, range: 1...1_000_000)
        let r = LoopCost(records: n).run { line in printError("planetsim: \(line)") }
        print(String(format: """
            records %d (signed and stored in %.1f s), file %.1f MB
            save: serialize %.2f ms, write %.2f ms; snapshot of the entries %.4f ms
            find (country BE, free-mru 8G, 20 rows): %.2f ms; decoding every record alone %.2f ms; over records decoded once %.2f ms; matched %d
            one slice of route metrics (2,048 lookups by key): %.3f ms
            """, r.records, r.fillSeconds, Double(r.fileBytes) / 1e6, r.saveMs, r.writeMs, r.snapshotMs, r.findMs, r.decodeAllMs, r.findIndexedMs, r.matched,
            r.metricSliceMs))
        exit(0)
    }
    guard args.positionals.isEmpty else { throw Arguments.UsageError("unexpected argument '\(args.positionals[0])'") }
    config.nodes = try args.int("nodes", default: 100, range: 2...1_000_000)
    if let t = args.value("topology") {
        guard let kind = TopologyKind(rawValue: t) else { throw Arguments.UsageError("--topology: '\(t)' is not one of random, scale-free, line, ring, grid") }
        config.topology = kind
    }
    config.degree = try args.int("degree", default: 4, range: 1...1000)
    config.seed = UInt64(try args.int("seed", default: 1, range: 0...Int.max))
    config.failLinks = try args.int("fail-links", default: 0, range: 0...10_000_000)
    config.crash = try args.int("crash", default: 0, range: 0...1_000_000)
    config.steadySeconds = Double(try args.int("steady", default: 120, range: 0...100_000))
    config.sampleSources = try args.int("sample", default: 32, range: 1...1_000_000)
    if args.value("origins") != nil {
        config.origins = try args.int("origins", default: 0, range: 1...1_000_000)
        guard config.origins <= config.nodes else {
            throw Arguments.UsageError("--origins: \(config.origins) is more than --nodes \(config.nodes)")
        }
    }
    config.stubs = try args.int("stubs", default: 0, range: 0...1_000_000)
    config.stubPeers = try args.int("stub-peers", default: 1, range: 1...2)
    if args.value("stub-peers") != nil && config.stubs == 0 { throw Arguments.UsageError("--stub-peers needs --stubs") }
    for (name, range) in [("churn", 0.0...10_000.0), ("loss", 0.0...0.9)] {
        guard let text = args.value(name) else { continue }
        guard let v = Double(text), range.contains(v) else { throw Arguments.UsageError("--\(name): '\(text)' is not a number in \(range.lowerBound)...\(range.upperBound)") }
        if name == "churn" { config.churnRate = v } else { config.loss = v }
    }
    config.partition = args.has("partition")
    jsonOutput = args.has("json")
    if args.has("capacity") {
        capacityConfig.nodes = config.nodes
        capacityConfig.topology = config.topology
        capacityConfig.degree = config.degree
        capacityConfig.seed = config.seed
        capacityConfig.steadySeconds = Double(try args.int("steady", default: 300, range: 0...100_000))
        capacityConfig.announcers = try args.int("announcers", default: 0, range: 0...config.nodes)
        capacityConfig.announceInterval = Double(try args.int("announce-interval", default: 1800, range: 5...86_400))
        if let text = args.value("flood-hold") {
            guard let v = Double(text), (0.0...5.0).contains(v) else { throw Arguments.UsageError("--flood-hold: '\(text)' is not a number of seconds in 0...5") }
            capacityConfig.floodHold = v
        }
        capacityMode = true
    } else if args.value("announcers") != nil || args.value("announce-interval") != nil || args.value("flood-hold") != nil {
        throw Arguments.UsageError("--announcers, --announce-interval and --flood-hold need --capacity")
    }
} catch let e as Arguments.UsageError {
    fail(e.description)
} catch {
    fail("\(error)")
}

if capacityMode {
    let started = wallClock()
    let report = CapacitySimulation(config: capacityConfig).run { line in if !jsonOutput { printError("planetsim: \(line)") } }
    let wall = wallClock() - started
    print(jsonOutput ? report.json(wallSeconds: wall).serialized(pretty: true) : report.table(wallSeconds: wall), terminator: "")
    exit(report.coldStartSeconds == nil || report.change100Seconds == nil ? 1 : 0)
}

let started = wallClock()
let simulation = Simulation(config: config)
let report = simulation.runScenario { line in if !jsonOutput { printError("planetsim: \(line)") } }
let wall = wallClock() - started
print(jsonOutput ? report.json(wallSeconds: wall).serialized(pretty: true) : report.table(wallSeconds: wall))
exit(report.loopsObserved == 0 ? 0 : 1)
