import PlanetCapacity
import PlanetCore
import PlanetLink
import PlanetNode
import PlanetRouting
import PlanetRuntime
import PlanetYggdrasil

/// Well-formed inputs for each target, so the fuzzers start from the formats themselves
/// instead of having to discover a signed beacon or a TCP checksum. `planetfuzz seeds DIR`
/// writes them to `Fuzz/corpus/<target>/seed-*`; the corpus in the repository is its output.
public enum FuzzSeeds {
    public static func all() -> [(target: String, name: String, bytes: [UInt8])] {
        var out: [(String, String, [UInt8])] = []
        func add(_ target: String, _ name: String, _ bytes: [UInt8]) { out.append((target, name, bytes)) }

        // Link frames.
        let id = FuzzIdentity.make(9)
        let hs = HandshakeInitiator(local: id, localIndex: 0x0102_0304, expectedPeer: nil, domain: LinkConfig().domain)
        add("link-datagram", "init", [LinkFrameType.handshakeInit.rawValue] + hs.initMessage())
        var withCookie = [LinkFrameType.handshakeInit.rawValue] + hs.initMessage()
        for i in 39..<55 { withCookie[i] = UInt8(i) }
        add("link-datagram", "init-cookie", withCookie)
        add("link-datagram", "response", [LinkFrameType.handshakeResponse.rawValue] + [UInt8](repeating: 0x11, count: HandshakeMessages.responseLength))
        add("link-datagram", "finish", [LinkFrameType.handshakeFinish.rawValue] + [UInt8](repeating: 0x22, count: HandshakeMessages.finishLength))
        add("link-datagram", "transport", [LinkFrameType.transport.rawValue] + [UInt8](repeating: 0, count: 12) + [UInt8](repeating: 0x33, count: 32))
        add("link-datagram", "sealed-payload", [LinkFrameType.transportSealedPayload.rawValue] + [UInt8](repeating: 0, count: 12) + [UInt8](repeating: 0x44, count: 80))
        add("link-datagram", "beacon", Beacon.make(identity: id, port: 8470, timestamp: 12345, domain: LinkConfig().domain))
        add("link-datagram", "cookie-reply", [LinkFrameType.cookieReply.rawValue, 1, 2, 3, 4] + [UInt8](repeating: 0x55, count: 32))

        // Link inner frames.
        add("link-inner", "keepalive", [LinkInnerFrameType.keepalive.rawValue])
        add("link-inner", "ping", [LinkInnerFrameType.ping.rawValue] + [UInt8](repeating: 7, count: 8))
        add("link-inner", "pong", [LinkInnerFrameType.pong.rawValue] + [UInt8](repeating: 7, count: 8))
        add("link-inner", "upper", [0x10, 1, 2, 3])

        // Routing messages, as a router really sends them to a new neighbour.
        let r1 = Router(identity: FuzzIdentity.make(10), now: Instant(seconds: 1000), random: SplitMix64(seed: 10))
        let r2 = Router(identity: FuzzIdentity.make(11), now: Instant(seconds: 1000), random: SplitMix64(seed: 11))
        r1.neighbourUp(r2.identity.publicKey, cost: 20, now: Instant(seconds: 1000))
        r1.tick(now: Instant(seconds: 1001))
        let firstMessages = r1.drainOutgoing().prefix(4)
        for (i, message) in firstMessages.enumerated() {
            add("routing", "router-\(i)", message.message)
            add("node-frame", "routing-\(i)", [InnerFrameType.routing.rawValue] + message.message)
        }
        add("routing", "request", RoutingFuzzSeeds.request(origin: r2.identity.publicKey))

        // A stub's routing (routing-stub): the hello, a query, the signed answer to the query
        // the target's stub has out, "unknown" for it, and a route the stub would relay.
        let asked = StubRoutersUnderFuzz.asked
        add("routing-stub", "hello", RoutingFuzzSeeds.message([.stubHello]))
        add("routing-stub", "query", RoutingFuzzSeeds.message([.originQuery(address: asked.address)]))
        add("routing-stub", "answer", RoutingFuzzSeeds.message([.originAnswer(
            origin: asked.publicKey, seqno: 3, flags: 0, signature: asked.sign(OriginSignature.message(origin: asked.publicKey, seqno: 3, flags: 0)))]))
        add("routing-stub", "unknown", RoutingFuzzSeeds.message([.originUnknown(address: asked.address)]))
        for (i, message) in firstMessages.prefix(2).enumerated() { add("routing-stub", "router-\(i)", message.message) }
        add("routing-stub", "request", RoutingFuzzSeeds.request(origin: r2.identity.publicKey))

        // Node inner frames: overlay packets carrying each session message, direct packets.
        let a = FuzzIdentity.make(3), b = FuzzIdentity.make(4)
        let session = HandshakeInitiator(local: a, localIndex: 9, expectedPeer: b.publicKey, domain: "planetary-session-v1")
        let sessionInit = [SessionMessageType.handshakeInit.rawValue] + session.initMessage()
        add("node-frame", "overlay-session-init", OverlayPacket.make(hopLimit: 64, destination: b.address, source: a.address, message: sessionInit))
        add("node-frame", "overlay-relay", OverlayPacket.make(hopLimit: 64, destination: FuzzIdentity.make(12).address, source: a.address,
                                                             message: [SessionMessageType.data.rawValue] + [UInt8](repeating: 0, count: 40)))
        let echo = icmpEcho(from: a.address, to: b.address)
        let report = ErrorReport.make(kind: .noRoute, reporter: a, invoking: [SessionMessageType.data.rawValue] + [UInt8](repeating: 1, count: 60))
        add("node-frame", "overlay-error-report", OverlayPacket.make(hopLimit: 64, destination: b.address, source: a.address, message: report))
        add("node-frame", "overlay-control", OverlayPacket.make(hopLimit: 64, destination: b.address, source: a.address,
                                                               message: [SessionMessageType.control.rawValue] + [UInt8](repeating: 0, count: 40)))
        add("node-frame", "direct", [InnerFrameType.direct.rawValue] + echo)
        add("node-frame", "direct-partial", [InnerFrameType.directChecksumPartial.rawValue] + echo)
        add("dataplane", "ipv6", echo)
        add("dataplane", "overlay", OverlayPacket.make(hopLimit: 64, destination: b.address, source: a.address, message: sessionInit))
        add("dataplane", "error-report", report)

        // TUN packets: whole packets, and next-header byte + payload for the far node.
        add("node-tun", "icmp-echo", echo)
        add("node-tun", "payload-icmp", [58] + Array(echo[40...]))
        add("node-tun", "payload-tcp", [6] + Array(tcp(seq: 1, payload: Array(0..<32))[40...]))
        add("node-tun", "payload-udp", [17, 0x10, 0, 0x20, 0, 0, 12, 0, 0, 1, 2, 3, 4])

        // Session control plaintexts (type byte, body): endpoint offers (hole punching), an
        // empty offer, the experimental type nobody handles, a type that does not exist.
        let offer = EndpointCandidates([
            .init(kind: .observed, endpoint: Endpoint(address: IPv6Address("2001:db8::7")!, port: 8470)),
            .init(kind: .local, endpoint: Endpoint(address: IPv6Address("fd12::7")!, port: 8471)),
            .init(kind: .observed, endpoint: Endpoint(address: IPv6Address("::ffff:198.51.100.7")!, port: 40000)),
        ])
        add("session-control", "endpoints", [SessionControlType.endpoints.rawValue] + offer.encode())
        add("session-control", "endpoints-unprobeable", [SessionControlType.endpoints.rawValue] + EndpointCandidates([
            .init(kind: .observed, endpoint: Endpoint(address: IPv6Address("::1")!, port: 8470)),
            .init(kind: .local, endpoint: Endpoint(address: IPv6Address("ff02::1")!, port: 8470)),
        ]).encode())
        add("session-control", "endpoints-empty", [SessionControlType.endpoints.rawValue, 0])
        add("session-control", "experimental", [SessionControlType.experimental.rawValue, 1, 2, 3])
        add("session-control", "unknown-type", [0x42, 0, 0, 0])

        // Offload: a TCP super-packet with its virtio header, a packet needing a checksum, and
        // runs of segments for the coalescer (two-byte lengths, top bit = checksum-partial).
        let big = tcp(seq: 1000, payload: (0..<3000).map { UInt8(truncatingIfNeeded: $0) }, checksum: false)
        add("segmenter", "tso", virtio(flags: 1, gso: 4, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16) + big)
        add("segmenter", "needs-csum", virtio(flags: 1, gso: 0, hdrLen: 0, gsoSize: 0, csumStart: 40, csumOffset: 16) + tcp(seq: 5, payload: [1, 2, 3], checksum: false))
        add("segmenter", "plain", virtio(flags: 0, gso: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0) + echo)
        var run: [UInt8] = []
        for i in 0..<4 {
            let segment = tcp(seq: 1000 + UInt32(i * 100), payload: [UInt8](repeating: UInt8(i), count: 100))
            run += [UInt8(segment.count >> 8), UInt8(segment.count & 0xff)] + segment
        }
        add("coalescer", "run", run)
        let partial = tcp(seq: 1, payload: [9, 9, 9], checksum: false)
        add("coalescer", "partial", [UInt8(0x80 | partial.count >> 8), UInt8(partial.count & 0xff)] + partial)

        // Text formats.
        add("config", "full", Array(sampleConfig.utf8))
        add("config", "minimal", Array("{\"peers\": [\"udp://[fd00::1]:8470?key=\(b.publicKey.hex)\"], \"tun\": {\"enabled\": false}}".utf8))
        add("config", "uri", Array("udp://10.1.2.3:8470?key=\(a.publicKey.hex)".utf8))
        add("yggdrasil", "json", Array("{\"PrivateKey\": \"\(hex(a.secretKey))\", \"Peers\": []}".utf8))
        add("yggdrasil", "hjson", Array("{\n  # comment\n  PrivateKey: \(hex(a.secretKey))\n  Peers: []\n}\n".utf8))
        for (i, line) in ["{\"request\": \"getSelf\"}", "{\"request\": \"addPeer\", \"uri\": \"udp://10.0.0.1:8470\"}",
                          "{\"request\": \"getStats\", \"extra\": 1}", "{\"status\":\"success\",\"response\":{\"peers\":[]}}",
                          "{\"status\":\"error\",\"error\":\"no\"}"].enumerated() {
            add("admin", "line-\(i)", Array(line.utf8))
        }
        for (i, request) in ["GET / HTTP/1.1\r\nHost: [::1]:8472\r\nAccept: */*\r\n\r\n",
                             "GET /api/nodes?country=BE&free-mru=8G&ipv4&gpu=&near=50.8,4.3&radius=100&sort=free-mru&order=desc&limit=5 HTTP/1.1\r\nHost: localhost:8472\r\n\r\n",
                             "GET /api/nodes?free-mru=%31%36G+&city=Sint+Niklaas&tag=a%26b&farm=1,2 HTTP/1.0\n\n",
                             "GET /api/peers HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                             "HEAD /app.js HTTP/1.1\r\nHost: evil.example\r\n\r\n",
                             "POST /api/self HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"].enumerated() {
            add("web", "request-\(i)", Array(request.utf8))
        }

        // Capacity gossip: a record signed by the neighbour the target links to, valid at the
        // target's fixed clock, in a records message; a summary; part of a bucket list.
        let announcer = FuzzIdentity.make(6)
        let record = CapacityRecord(key: announcer.publicKey, seqno: 7, issuedAt: 1_800_000_000, expiresAt: 1_800_005_400,
                                    publicIPv4: true, total: CapacityResources(cru: 8, mru: 16 << 30, sru: 512 << 30),
                                    latitude: 50.85, longitude: 4.35, country: "BE", farmId: 1, city: "Brussels", farmName: "fuzz",
                                    gpus: [CapacityGPU(vendor: 0x10de, device: 0x2204, name: "GA102")], tags: ["seed"])
            .signed(by: announcer)
        add("capacity", "records", CapacityMessage.records([record]).encoded())
        add("capacity", "record-alone", record)
        add("capacity", "summary", CapacityMessage.summary(first: 0, buckets: (0..<4).map { CapacityMessage.Bucket(count: UInt32($0), digest: UInt64($0) &* 0x9e37_79b9) }).encoded())
        add("capacity", "bucket-list", CapacityMessage.bucketList(bucket: Int(announcer.publicKey.w0 >> 56), total: 2,
                                                                  entries: [CapacityMessage.ListEntry(prefix: 1, seqno: 7)]).encoded())
        // A stub's finder (CapacityGossip+Stub.swift): a query the target's upstream answers, and
        // the answer to the query its stub has out (id 1), the record genuine.
        add("capacity", "find-query", CapacityMessage.findQuery(id: 1, filters: [.init("country", "BE"), .init("sort", "free-mru")]).encoded())
        add("capacity", "find-node", CapacityMessage.findQuery(id: 2, filters: [.init("node", announcer.publicKey.hex)]).encoded())
        add("capacity", "find-answer", CapacityMessage.findAnswer(id: 1, part: 0, parts: 1, held: 1, records: [.init(metric: 20, bytes: record)]).encoded())
        add("capacity", "find-answer-parts", CapacityMessage.findAnswer(id: 1, part: 1, parts: 2, held: 9, records: [.init(metric: nil, bytes: record)]).encoded())

        // AEGIS-256: key, nonce, associated-data length, associated data, message. A transport
        // frame's shape (13 bytes of header as associated data, a packet) and the block edges.
        let key = (0..<32).map { UInt8($0) }, nonce = (0..<32).map { UInt8(0x80 | $0) }
        add("aegis", "frame", key + nonce + [13] + [UInt8](repeating: 4, count: 13) + (0..<1300).map { UInt8(truncatingIfNeeded: $0) })
        add("aegis", "empty", key + nonce + [0])
        add("aegis", "blocks", key + nonce + [16] + [UInt8](repeating: 0xaa, count: 16) + [UInt8](repeating: 0x55, count: 33))
        // A Yggdrasil 0.5 link stream as a node opens it; and its frames alone (no handshake).
        let link = YggdrasilLinkFuzzTargets.seedStream()
        add("yggdrasil-link", "stream", link)
        add("yggdrasil-link", "frames", Array(link.dropFirst(123)))
        // The same frames into the router: a peer joining, announcing, looking up and sending.
        add("ironwood-router", "frames", Array(link.dropFirst(123)))
        for (name, bytes) in YggdrasilSessionFuzzTargets.seeds() { add("yggdrasil-session", name, bytes) }
        return out
    }

    static let sampleConfig = """
    {"privateKey": "", "listen": ["udp://[::]:8470"], "peers": ["udp://192.0.2.1:8470"], "allowedPublicKeys": [],
     "tun": {"enabled": true, "name": "planet0", "mtu": 1360}, "adminSocket": "/run/planetary/planetd.sock",
     "adminGroup": "", "multicast": [".*"], "stateDir": "/var/lib/planetary", "logLevel": "info", "metricsListen": ""}
    """

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    static func virtio(flags: UInt8, gso: UInt8, hdrLen: UInt16, gsoSize: UInt16, csumStart: UInt16, csumOffset: UInt16) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: VirtioNetHeader.length)
        raw.withUnsafeMutableBytes {
            VirtioNetHeader(flags: flags, gsoType: gso, hdrLen: hdrLen, gsoSize: gsoSize, csumStart: csumStart, csumOffset: csumOffset)
                .write(to: $0.baseAddress!)
        }
        return raw
    }

    static func icmpEcho(from source: IPv6Address, to destination: IPv6Address) -> [UInt8] {
        var p = NodePair.packet(from: source, to: destination, nextHeader: 58, payload: [128, 0, 0, 0, 0, 1, 0, 1, 0x61, 0x62])
        p.withUnsafeMutableBytes { raw in
            let sum = InternetChecksum.pseudoHeaderSum(ipv6: raw.baseAddress!, proto: 58, length: raw.count - 40)
                &+ InternetChecksum.sum(raw.baseAddress! + 40, raw.count - 40)
            let c = ~InternetChecksum.fold(sum)
            raw[42] = UInt8(c >> 8)
            raw[43] = UInt8(c & 0xff)
        }
        return p
    }

    static func tcp(seq: UInt32, payload: [UInt8], checksum: Bool = true) -> [UInt8] {
        let src = IPv6Address("200::1")!, dst = IPv6Address("200::2")!
        var segment: [UInt8] = [0x0f, 0xa0, 0x14, 0x51]
        segment += [UInt8(seq >> 24), UInt8(seq >> 16 & 0xff), UInt8(seq >> 8 & 0xff), UInt8(seq & 0xff), 0, 0, 0, 7]
        segment += [0x50, 0x10, 2, 0, 0, 0, 0, 0] + payload
        var p = NodePair.packet(from: src, to: dst, nextHeader: 6, payload: segment)
        p.withUnsafeMutableBytes { raw in
            let sum = InternetChecksum.pseudoHeaderSum(ipv6: raw.baseAddress!, proto: 6, length: raw.count - 40)
            if checksum {
                let c = ~InternetChecksum.fold(sum &+ InternetChecksum.sum(raw.baseAddress! + 40, raw.count - 40))
                raw[56] = UInt8(c >> 8); raw[57] = UInt8(c & 0xff)
            } else {
                // As the kernel leaves it: the pseudo-header sum in the field, to be completed.
                let c = InternetChecksum.fold(sum)
                raw[56] = UInt8(c >> 8); raw[57] = UInt8(c & 0xff)
            }
        }
        return p
    }
}

enum RoutingFuzzSeeds {
    static func message(_ tlvs: [RoutingTLV]) -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.u8(RoutingMessage.version)
        for t in tlvs { t.encode(into: &w) }
        return w.bytes
    }

    static func request(origin: PublicKey) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.u8(RoutingMessage.version)
        RoutingTLV.routeRequest(origin: origin).encode(into: &w)
        return w.bytes
    }
}
