import PlanetCore
import PlanetRouting

/// The phases planetsim runs: converge, steady state, link failures, churn, crashes with
/// restart, partition and heal. Each phase ends converged (or timed out) and is surveyed
/// for loops and black holes.
public struct SimulationReport: Sendable {
    public struct Phase: Sendable {
        public let name: String
        /// nil: did not converge within the phase limit.
        public let seconds: Double?
        public let survey: Simulation.PathSurvey
    }
    public var nodes = 0
    public var links = 0
    /// Nodes originating a route (all nodes unless sampled with `--origins`).
    public var origins = 0
    /// Stub nodes and their links (`--stubs`), their routing state, their steady traffic
    /// per link apart from the routers' links, and the origins they resolved after convergence.
    public var stubs = 0
    public var stubLinks = 0
    public var stubMemoryBytesPerNode = 0
    public var steadyRouterLinkRate: Double? = nil
    public var steadyStubLinkRate: Double? = nil
    public var stubResolutions = (asked: 0, right: 0, wrong: 0)
    /// Routing bytes queued on links or in flight at the busiest moment.
    public var peakInFlightBytes = 0
    /// Router counters summed over the nodes alive at the end.
    public var routerTotals = RouterStats()
    public var phases: [Phase] = []
    public var convergedSeconds: Double?
    public var failoverWorst: Double?
    public var failoverMedian: Double?
    public var failoverPairs = 0
    public var failoverUnrecovered = 0
    /// nil when the run stopped at convergence (`--steady 0`).
    public var steadyRate: Double? = nil
    public var peakRate = 0.0
    public var routesPerNode = 0.0
    public var memoryBytesPerNode = 0
    public var stretch = 1.0
    public var signatureVerifications = 0
    public var virtualSeconds = 0.0

    public var loopsObserved: Int { phases.reduce(0) { $0 + $1.survey.loops } }
    public var unreachablePairs: Int { (phases.last?.survey.unreachable ?? 0) + failoverUnrecovered }

    public func json(wallSeconds: Double?) -> JSONValue {
        func num(_ v: Double?) -> JSONValue { v.map { .number(($0 * 1000).rounded() / 1000) } ?? .null }
        var o: [(String, JSONValue)] = [
            ("nodes", .number(Double(nodes))), ("links", .number(Double(links))), ("origins", .number(Double(origins))),
            ("convergedSeconds", num(convergedSeconds)),
            ("failoverSeconds", .object([("worst", num(failoverWorst)), ("median", num(failoverMedian)),
                                         ("pairs", .number(Double(failoverPairs))), ("unrecovered", .number(Double(failoverUnrecovered)))])),
            ("controlBytesPerLinkPerSecond", .object([("steady", steadyRate.map(num) ?? .null), ("peak", num(peakRate))])),
            ("routesPerNode", num(routesPerNode)), ("memoryBytesPerNode", .number(Double(memoryBytesPerNode))),
            ("stretch", num(stretch)), ("loopsObserved", .number(Double(loopsObserved))),
            ("unreachablePairs", .number(Double(unreachablePairs))),
            ("signatureVerifications", .number(Double(signatureVerifications))),
            ("peakInFlightBytes", .number(Double(peakInFlightBytes))),
            ("routerTotals", .object([("messagesSent", .number(Double(routerTotals.messagesSent))),
                                      ("bytesSent", .number(Double(routerTotals.bytesSent))),
                                      ("updatesAccepted", .number(Double(routerTotals.updatesAccepted))),
                                      ("droppedUnverifiedRefresh", .number(Double(routerTotals.drops[.unverifiedRefresh]))),
                                      ("droppedQueueFull", .number(Double(routerTotals.drops[.queueFull]))),
                                      ("seqnoRequestsSent", .number(Double(routerTotals.seqnoRequestsSent))),
                                      ("droppedRouteSlotsFull", .number(Double(routerTotals.drops[.routeSlotsFull]))),
                                      // Reconciliation by digest (Docs/protocol.md, routing), over the whole run.
                                      ("summariesSent", .number(Double(routerTotals.summariesSent))),
                                      ("bucketsDiffering", .number(Double(routerTotals.bucketsDiffering))),
                                      ("rangeListsSent", .number(Double(routerTotals.rangeListsSent))),
                                      ("reconciledRoutesSent", .number(Double(routerTotals.reconciledRoutesSent))),
                                      ("prefixRetractionsSent", .number(Double(routerTotals.prefixRetractionsSent)))])),
            ("virtualSeconds", num(virtualSeconds)),
            ("phases", .array(phases.map { p in
                .object([("name", .string(p.name)), ("seconds", num(p.seconds)), ("pairsWalked", .number(Double(p.survey.pairs))),
                         ("loops", .number(Double(p.survey.loops))), ("unreachable", .number(Double(p.survey.unreachable))),
                         ("stretch", num(p.survey.stretch))])
            })),
        ]
        if stubs > 0 {
            o.append(("stubs", .object([
                ("nodes", .number(Double(stubs))), ("links", .number(Double(stubLinks))),
                ("memoryBytesPerStub", .number(Double(stubMemoryBytesPerNode))),
                ("steadyBytesPerStubLinkPerSecond", steadyStubLinkRate.map(num) ?? .null),
                ("steadyBytesPerRouterLinkPerSecond", steadyRouterLinkRate.map(num) ?? .null),
                ("resolutions", .object([("asked", .number(Double(stubResolutions.asked))), ("right", .number(Double(stubResolutions.right))),
                                         ("wrong", .number(Double(stubResolutions.wrong)))])),
            ])))
        }
        if let wallSeconds { o.append(("wallSeconds", num(wallSeconds))) }
        return .object(o)
    }

    public func table(wallSeconds: Double?) -> String {
        func f(_ v: Double?) -> String { v.map { String(Int(($0 * 1000).rounded())) + " ms" } ?? "timeout" }
        var lines = [
            "nodes \(nodes)  links \(links)  origins \(origins)  routes/node \(Int(routesPerNode))  memory/node \(memoryBytesPerNode / 1024) KiB",
            "converged            \(f(convergedSeconds))",
            "failover worst       \(f(failoverWorst))   median \(f(failoverMedian))   (\(failoverPairs) pairs, \(failoverUnrecovered) unrecovered)",
            "control bytes/link/s steady \(steadyRate.map { String(Int($0)) } ?? "not measured")   peak \(Int(peakRate))",
            "stretch              \(((stretch * 1000).rounded()) / 1000)",
            "loops observed       \(loopsObserved)",
            "unreachable pairs    \(unreachablePairs)",
            "", "phase                 time        pairs   loops  unreachable  stretch",
        ]
        if stubs > 0 {
            lines.insert("stubs \(stubs) on \(stubLinks) links  state/stub \(stubMemoryBytesPerNode) B  steady B/s per stub link "
                         + "\(steadyStubLinkRate.map { String(Int($0)) } ?? "-"), per router link \(steadyRouterLinkRate.map { String(Int($0)) } ?? "-")"
                         + "  resolved \(stubResolutions.right)/\(stubResolutions.asked)", at: 1)
        }
        for p in phases {
            lines.append(p.name.padding(20) + " " + f(p.seconds).padding(11) + " " + String(p.survey.pairs).padding(7) + " "
                         + String(p.survey.loops).padding(6) + " " + String(p.survey.unreachable).padding(12) + " "
                         + String(((p.survey.stretch * 1000).rounded()) / 1000))
        }
        if let wallSeconds { lines.append("wall time \(Int(wallSeconds * 1000)) ms, virtual \(Int(virtualSeconds)) s") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

extension Simulation {
    /// Runs every phase the config asks for. `progress` gets a line per phase (stderr in planetsim).
    public func runScenario(progress: (String) -> Void = { _ in }) -> SimulationReport {
        var report = SimulationReport()
        report.nodes = nodeCount
        report.links = linkCount
        report.origins = isOrigin.filter { $0 }.count
        report.stubs = isStub.filter { $0 }.count
        report.stubLinks = isStubLink.filter { $0 }.count
        func phase(_ name: String, _ seconds: Double?) {
            let s = survey()
            report.phases.append(.init(name: name, seconds: seconds, survey: s))
            progress("\(name): \(seconds.map { "\($0)s" } ?? "timeout"), loops \(s.loops), unreachable \(s.unreachable)")
        }

        start()
        run(seconds: 1)
        let converged = runUntilConverged().map { $0 + 1 }
        report.convergedSeconds = converged
        phase("converge", converged)
        report.stretch = report.phases[0].survey.stretch
        if report.stubs > 0 {
            report.stubResolutions = stubResolutions()
            progress("stubs resolved \(report.stubResolutions.right) of \(report.stubResolutions.asked) destinations through their upstreams")
        }

        // `--steady 0` stops at convergence: the largest runs can afford only the cold start.
        if config.steadySeconds > 0 {
            // Let the tail of convergence (metric improvements) pass before measuring.
            run(seconds: config.settleSeconds)
            let steadyStart = now
            run(seconds: config.steadySeconds)
            let rate = controlRate(from: steadyStart, to: now)
            report.steadyRate = rate.mean
            if report.stubs > 0 {
                let byKind = controlRateByKind(from: steadyStart, to: now)
                (report.steadyRouterLinkRate, report.steadyStubLinkRate) = (byKind.router, byKind.stub)
            }
            phase("steady", config.steadySeconds)
        }

        if config.failLinks > 0 {
            let f = failover(config.failLinks)
            report.failoverWorst = f.worst
            report.failoverMedian = f.median
            report.failoverPairs = f.pairs
            report.failoverUnrecovered = f.unrecovered
            phase("fail \(config.failLinks) links", f.converged)
        }
        if config.churnRate > 0 {
            let end = now + UInt64(config.churnSeconds * 1e9)
            let step = 1.0 / config.churnRate
            while now < end {
                if let l = randomUpLinks(1).first {
                    setLink(l, up: false)
                    restoreLinkLater(l, after: 5 + Double(random.next() % 20_000) / 1000)
                }
                run(seconds: step)
            }
            run(seconds: 26)
            phase("churn", runUntilConverged())
        }
        if config.crash > 0 {
            var victims: [Int32] = []
            var r = SplitMix64(seed: config.seed ^ 0xc4a5)
            while victims.count < min(config.crash, nodeCount - 1) {
                let v = Int32(r.next() % UInt64(nodeCount))
                if !victims.contains(v) { victims.append(v) }
            }
            for v in victims { crash(v) }
            phase("crash \(victims.count)", runUntilConverged())
            for v in victims { restart(v) }
            phase("restart \(victims.count)", runUntilConverged())
        }
        if config.partition {
            let half = Int32(nodeCount / 2)
            let cut = links.indices.filter { (links[$0].a < half) != (links[$0].b < half) && links[$0].up }.map(Int32.init)
            for l in cut { setLink(l, up: false) }
            phase("partition (\(cut.count) links)", runUntilConverged())
            for l in cut { setLink(l, up: true) }
            phase("heal", runUntilConverged())
        }
        report.peakRate = controlRate(from: 0, to: now).peak
        report.routesPerNode = meanRoutesPerNode()
        report.memoryBytesPerNode = memoryPerNode()
        report.stubMemoryBytesPerNode = stubMemoryPerNode()
        report.signatureVerifications = signatureVerifications
        report.peakInFlightBytes = peakInFlightBytes
        report.routerTotals = routerTotals()
        report.virtualSeconds = seconds
        return report
    }

    /// Fails `k` random links at once and times, for sampled pairs whose path used one of
    /// them, until packets get through again.
    public func failover(_ k: Int) -> (worst: Double?, median: Double?, pairs: Int, unrecovered: Int, converged: Double?) {
        let failing = Set(randomUpLinks(k))
        var affected: [(Int32, Int32)] = []
        for src in sampleSources() {
            for dst in 0..<nodeCount where Int32(dst) != src && isAlive(Int32(dst)) && isOrigin[dst] {
                var hit = false
                _ = walk(from: src, to: Int32(dst)) { l in if failing.contains(l) { hit = true } }
                if hit { affected.append((src, Int32(dst))) }
            }
        }
        let t0 = now
        for l in failing.sorted() { setLink(l, up: false) }
        let comp = components()
        affected = affected.filter { comp.reaches(Int($0.0), Int($0.1)) }
        var pending = affected
        var times: [Double] = []
        var converged: Double?
        let limit = now + UInt64(config.maxPhaseSeconds * 1e9)
        while now < limit {
            run(seconds: config.checkSeconds)
            pending.removeAll { p in
                if case .reached = walk(from: p.0, to: p.1) { times.append(Double(now - t0) / 1e9); return true }
                return false
            }
            // Before the link layer notices, every count still looks right; only after can
            // matching counts mean the routers agree with the new topology.
            if pending.isEmpty && now - t0 > UInt64(config.detectSeconds * 1e9) && routeCountsMatch() {
                converged = Double(now - t0) / 1e9
                break
            }
        }
        times.sort()
        return (times.last, times.isEmpty ? nil : times[times.count / 2], affected.count, pending.count, converged)
    }
}
