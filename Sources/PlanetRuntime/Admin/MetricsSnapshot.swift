import PlanetCore

/// The node's counters and gauges at one moment: what `getStats` returns and what the
/// Prometheus endpoint exports, so both always agree.
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
    /// Records in the capacity directory (its refusals are among `drops`, as `capacity-<reason>`).
    public var capacityRecords: Int = 0

    public init() {}

    public static func == (a: MetricsSnapshot, b: MetricsSnapshot) -> Bool {
        a.json == b.json
    }

    /// The `getStats` response object (Docs/cli.md).
    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("rxPackets", .number(Double(rxPackets))),
            ("txPackets", .number(Double(txPackets))),
            ("rxBytes", .number(Double(rxBytes))),
            ("txBytes", .number(Double(txBytes))),
            ("drops", .object(drops.map { ($0.reason, .number(Double($0.count))) })),
            ("peersUp", .number(Double(peersUp))),
            ("routes", .number(Double(routes))),
            ("sessions", .number(Double(sessions))),
            ("handshakesCompleted", .number(Double(handshakesCompleted))),
            ("handshakesFailed", .number(Double(handshakesFailed))),
            ("capacityRecords", .number(Double(capacityRecords))),
        ]
        // Only from a daemon that reports them, so an older one's reply reads back unchanged.
        if !punch.isEmpty { fields.append(("punch", .object(punch.map { ($0.event, .number(Double($0.count))) }))) }
        return .object(fields)
    }

    /// Reads a `getStats` response back; absent or mistyped fields count as zero.
    public init(stats: JSONValue) {
        func u(_ k: String) -> UInt64 { UInt64(max(0, stats[k]?.numberValue ?? 0)) }
        rxPackets = u("rxPackets")
        txPackets = u("txPackets")
        rxBytes = u("rxBytes")
        txBytes = u("txBytes")
        drops = (stats["drops"]?.objectValue ?? []).map { ($0.0, UInt64(max(0, $0.1.numberValue ?? 0))) }
        peersUp = Int(u("peersUp"))
        routes = Int(u("routes"))
        sessions = Int(u("sessions"))
        handshakesCompleted = u("handshakesCompleted")
        handshakesFailed = u("handshakesFailed")
        capacityRecords = Int(u("capacityRecords"))
        punch = (stats["punch"]?.objectValue ?? []).map { ($0.0, UInt64(max(0, $0.1.numberValue ?? 0))) }
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
