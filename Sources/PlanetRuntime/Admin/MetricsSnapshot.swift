import PlanetCore
import PlanetAdmin

/// The node's counters and gauges at one moment: what `getStats` returns (`StatsReply`) and
/// what the Prometheus endpoint exports, so both always agree.
public struct MetricsSnapshot: Equatable, Sendable {
    public var rxPackets: UInt64 = 0
    public var txPackets: UInt64 = 0
    public var rxBytes: UInt64 = 0
    public var txBytes: UInt64 = 0
    /// Dropped packets by reason, in the order the node lists them.
    public var drops: [(reason: String, count: UInt64)] = []
    public var peersUp: Int = 0
    public var routes: Int = 0
    public var sessions: Int = 0
    public var handshakesCompleted: UInt64 = 0
    public var handshakesFailed: UInt64 = 0
    /// Hole punching's counters by name (`getStats` "punch"; Docs/cli.md), in the node's order.
    public var punch: [(event: String, count: UInt64)] = []
    /// The router's counters by name (`getStats` "routing"), in the node's order.
    public var routing: [(event: String, count: UInt64)] = []
    /// Records in the capacity directory (its refusals are among `drops`, as `capacity-<reason>`).
    public var capacityRecords: Int = 0
    /// The Yggdrasil side's gauges; nil on a node without one (no `yggdrasil_` series then).
    public var yggdrasil: StatsReply.YggdrasilGauges?

    public init() {}

    public static func == (a: MetricsSnapshot, b: MetricsSnapshot) -> Bool {
        a.reply == b.reply
    }

    /// The `getStats` reply these numbers are, and back: fields matched by the compiler, not
    /// by names typed twice.
    public var reply: StatsReply {
        StatsReply(rxPackets: rxPackets, txPackets: txPackets, rxBytes: rxBytes, txBytes: txBytes,
                   drops: Counters(drops.map { ($0.reason, $0.count) }), peersUp: UInt64(max(0, peersUp)), routes: UInt64(max(0, routes)),
                   sessions: UInt64(max(0, sessions)), handshakesCompleted: handshakesCompleted, handshakesFailed: handshakesFailed,
                   capacityRecords: UInt64(max(0, capacityRecords)), punch: punch.isEmpty ? nil : Counters(punch.map { ($0.event, $0.count) }),
                   routing: routing.isEmpty ? nil : Counters(routing.map { ($0.event, $0.count) }),
                   yggdrasilGauges: yggdrasil)
    }

    public init(_ r: StatsReply) {
        rxPackets = r.rxPackets
        txPackets = r.txPackets
        rxBytes = r.rxBytes
        txBytes = r.txBytes
        drops = r.drops.entries.map { ($0.name, $0.count) }
        peersUp = Int(clamping: r.peersUp)
        routes = Int(clamping: r.routes)
        sessions = Int(clamping: r.sessions)
        handshakesCompleted = r.handshakesCompleted
        handshakesFailed = r.handshakesFailed
        capacityRecords = Int(clamping: r.capacityRecords ?? 0)
        // Only from a daemon that reports them.
        punch = (r.punch?.entries ?? []).map { ($0.name, $0.count) }
        routing = (r.routing?.entries ?? []).map { ($0.name, $0.count) }
        yggdrasil = r.yggdrasilGauges
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public var prometheusText: String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: UInt64)]) {
            out += "# HELP planetary_\(name) \(help)\n# TYPE planetary_\(name) \(type)\n"
            for s in samples { out += "planetary_\(name)\(s.labels) \(s.value)\n" }
        }
        metric("rx_packets_total", "counter", "Packets received from peers.", [("", rxPackets)])
        metric("tx_packets_total", "counter", "Packets sent to peers.", [("", txPackets)])
        metric("rx_bytes_total", "counter", "Bytes received from peers.", [("", rxBytes)])
        metric("tx_bytes_total", "counter", "Bytes sent to peers.", [("", txBytes)])
        metric("drops_total", "counter", "Packets dropped, by reason.",
               drops.map { ("{reason=\"\(MetricsSnapshot.labelValue($0.reason))\"}", $0.count) })
        metric("peers_up", "gauge", "Peers with an established link.", [("", UInt64(max(0, peersUp)))])
        metric("routes", "gauge", "Entries in the routing table.", [("", UInt64(max(0, routes)))])
        metric("sessions", "gauge", "End-to-end sessions.", [("", UInt64(max(0, sessions)))])
        metric("handshakes_completed_total", "counter", "Link handshakes completed.", [("", handshakesCompleted)])
        metric("handshakes_failed_total", "counter", "Link handshakes that failed.", [("", handshakesFailed)])
        metric("capacity_records", "gauge", "Records in the capacity directory.", [("", UInt64(max(0, capacityRecords)))])
        if !punch.isEmpty {
            metric("punch_total", "counter", "Hole punching: offers, probe runs, inits and outcomes, by event.",
                   punch.map { ("{event=\"\(MetricsSnapshot.labelValue($0.event))\"}", $0.count) })
        }
        if !routing.isEmpty {
            metric("routing_total", "counter", "Routing: messages, signatures, reconciliation and stub origin queries, by event.",
                   routing.map { ("{event=\"\(MetricsSnapshot.labelValue($0.event))\"}", $0.count) })
        }
        if let y = yggdrasil {
            metric("yggdrasil_peers", "gauge", "Yggdrasil links up.", [("", y.peers)])
            metric("yggdrasil_tree_entries", "gauge", "Entries in the Yggdrasil spanning tree.", [("", y.treeEntries)])
            metric("yggdrasil_paths", "gauge", "Yggdrasil paths known (ironwood's path cache).", [("", y.paths)])
            metric("yggdrasil_sessions", "gauge", "Yggdrasil end-to-end sessions.", [("", y.sessions)])
            metric("yggdrasil_is_root", "gauge", "1 when this node is the root of its Yggdrasil tree.", [("", y.isRoot ? 1 : 0)])
        }
        return out
    }

    /// Label values escape backslash, double quote and newline, as the format requires.
    static func labelValue(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }
}
