import PlanetCore
import PlanetNode

/// The pings: ICMPv6 echo requests written into one node's TUN side for another's overlay
/// address, answered by the generator as the receiving host's kernel would, and matched when
/// the reply comes out of the first node's TUN side. Nothing here knows about sockets.
struct Pinger {
    /// The echo identifier every generator ping carries ("LG"), so a stray echo is not counted.
    static let identifier: UInt16 = 0x4c47

    struct Outstanding {
        let from: Int
        let to: Int
        let sent: Instant
    }

    private(set) var outstanding: [UInt16: Outstanding] = [:]
    private(set) var sent = 0
    private(set) var answered = 0
    private(set) var lost = 0
    private(set) var late = 0
    /// Round trips of the answered pings, seconds.
    private(set) var roundTrips: [Double] = []

    /// The echo request from `source` to `destination` with sequence number `seq`.
    static func request(from source: IPv6Address, to destination: IPv6Address, seq: UInt16) -> [UInt8] {
        var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0,
                             UInt8(identifier >> 8), UInt8(identifier & 0xff), UInt8(seq >> 8), UInt8(seq & 0xff)]
        body.append(contentsOf: Array("planetloadgen...".utf8))
        return ICMPv6.packet(from: source, to: destination, icmp: body)
    }

    mutating func sending(seq: UInt16, from: Int, to: Int, now: Instant) {
        outstanding[seq] = Outstanding(from: from, to: to, sent: now)
        sent += 1
    }

    /// What a host does with a packet its TUN gets: an echo request for it is answered (the
    /// reply to inject into the same node), an echo reply of ours is matched.
    mutating func delivered(_ packet: ArraySlice<UInt8>, at node: Int, address: IPv6Address, now: Instant) -> [UInt8]? {
        let p = Array(packet)
        guard p.count >= 48, p[0] >> 4 == 6, p[6] == 58 else { return nil }
        let type = p[40]
        if type == ICMPv6.echoRequest {
            // The kernel's answer: the same identifier, sequence and data, back to the sender.
            guard let source = IPv6Address(p[8..<24]) else { return nil }
            var body = Array(p[40...])
            body[0] = ICMPv6.echoReply
            body[2] = 0; body[3] = 0
            return ICMPv6.packet(from: address, to: source, icmp: body)
        }
        if type == ICMPv6.echoReply, UInt16(p[44]) << 8 | UInt16(p[45]) == Pinger.identifier {
            let seq = UInt16(p[46]) << 8 | UInt16(p[47])
            if let o = outstanding.removeValue(forKey: seq), o.from == node {
                answered += 1
                roundTrips.append(now.seconds(since: o.sent))
            } else {
                late += 1
            }
        }
        return nil
    }

    /// Pings older than `timeout` are lost.
    mutating func expire(now: Instant, timeout: Double) {
        for (seq, o) in outstanding where now.seconds(since: o.sent) > timeout {
            outstanding[seq] = nil
            lost += 1
        }
    }
}
