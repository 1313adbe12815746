import PlanetCore
import PlanetYggdrasil

enum YggdrasilLinkFuzzTargets {
    static let handshakeKey = FuzzIdentity.make(21)
    static let parentKey = FuzzIdentity.make(22)
    static let fuzzSharedKey = [UInt8](repeating: 0x33, count: 32)

    /// What a Yggdrasil 0.5 peer sends down a stream: its meta handshake, then ironwood frames,
    /// each body handed to the decoder of its type (and signatures checked). If the input starts
    /// with a readable "meta" header, that many bytes are the handshake and the rest are frames
    /// whether or not the handshake verified, so a mutated handshake does not hide the frames.
    static let stream = FuzzTarget("yggdrasil-link", "Yggdrasil 0.5 link streams: meta handshake, ironwood frames and their bodies") { input in
        let bytes = Array(input)
        _ = try? YggdrasilMeta.decode(bytes, password: [])
        _ = try? YggdrasilMeta.decode(bytes, password: Array("fuzz".utf8))
        var start = 0
        if bytes.count >= YggdrasilMeta.headerBytes, bytes.starts(with: "meta".utf8) {
            start = min(bytes.count, YggdrasilMeta.headerBytes + (Int(bytes[4]) << 8 | Int(bytes[5])))
        }
        var decoder = IronwoodFrameDecoder()
        // Two splits of the same stream: all at once, then in 7-byte pieces; they must agree.
        decoder.append(bytes[start...])
        var whole: [IronwoodFrame] = []
        while let frame = try? decoder.next() { whole.append(frame) }
        var pieces = IronwoodFrameDecoder(), split: [IronwoodFrame] = []
        var offset = start
        while offset < bytes.count {
            pieces.append(bytes[offset..<min(offset + 7, bytes.count)])
            offset += 7
            while let frame = try? pieces.next() { split.append(frame) }
        }
        precondition(whole == split, "the frame decoder depends on how the stream was split")
        for frame in whole { decodeBody(frame) }
        linkStateMachine(bytes)
    }

    /// `YggdrasilLink` over the same stream, whole and in 7-byte pieces (with the clock moving
    /// and the timers run between pieces): the same events, at most one `.closed`, and nothing
    /// after it.
    static func linkStateMachine(_ bytes: [UInt8]) {
        func run(pieceSize: Int) -> [YggdrasilLink.Event] {
            guard var link = try? YggdrasilLink(identity: handshakeKey, direction: .inbound, options: .init(), now: .zero) else {
                preconditionFailure("a link without a password always starts")
            }
            var events: [YggdrasilLink.Event] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + pieceSize, bytes.count)
                events += link.receive(bytes[offset..<end], now: .zero)
                offset = end
                if link.isEstablished { _ = link.send(IronwoodFrame(type: .sigReq, body: [1, 2]), now: .zero) }
            }
            events += link.handleDeadline(now: Instant(seconds: 1))
            _ = link.takeOutput()
            return events
        }
        let whole = run(pieceSize: max(bytes.count, 1))
        let split = run(pieceSize: 7)
        precondition(whole == split, "the link's events depend on how the stream was split")
        let closes = whole.enumerated().filter { if case .closed = $0.element { return true } else { return false } }
        precondition(closes.count <= 1 && (closes.first.map { $0.offset == whole.count - 1 } ?? true),
                     "a link reported something after closing, or closed twice")
    }

    static func decodeBody(_ frame: IronwoodFrame) {
        switch frame.type {
        case .sigReq:
            _ = try? IronwoodSigReq(body: frame.body)
        case .sigRes:
            if let res = try? IronwoodSigRes(body: frame.body) {
                _ = res.verify(node: handshakeKey.publicKey, parent: parentKey.publicKey)
            }
        case .announce:
            if let ann = try? IronwoodAnnounce(body: frame.body), (try? ann.verify()) != nil {
                // Believed only if both signatures hold over exactly what was decoded.
                _ = ann.encoded
            }
        case .bloom:
            if let bloom = try? IronwoodBloom(body: frame.body) {
                _ = bloom.contains(YggdrasilBloomKey.transform(handshakeKey.publicKey).bytes)
                precondition((try? IronwoodBloom(body: bloom.encoded)) == bloom, "a bloom filter does not survive re-encoding")
            }
        case .pathLookup:
            _ = try? IronwoodPathLookup(body: frame.body)
        case .pathNotify:
            if let notify = try? IronwoodPathNotify(body: frame.body) { _ = try? notify.verify() }
        case .pathBroken:
            _ = try? IronwoodPathBroken(body: frame.body)
        case .traffic:
            if let traffic = try? IronwoodTraffic(body: frame.body) {
                precondition(traffic.encoded.count <= frame.body.count, "traffic re-encodes longer than it came")
                // The session layer inside: a handshake opened as its addressee would, or data.
                _ = try? IronwoodSessionInit.open(traffic.payload, recipient: handshakeKey, sender: parentKey.publicKey)
                _ = IronwoodSessionTraffic(payload: traffic.payload)?.open(sharedKey: fuzzSharedKey)
            }
        case .dummy, .keepAlive:
            break
        }
    }

    /// A stream as a real node opens a link, made with our encoders (which the
    /// PlanetYggdrasil tests show reproduce yggdrasil 0.5.12's bytes).
    static func seedStream() -> [UInt8] {
        var out = (try? YggdrasilMeta.encode(identity: handshakeKey, priority: 0, password: [])) ?? []
        func frame(_ type: IronwoodFrame.FrameType, _ body: [UInt8]) { out += IronwoodFrame(type: type, body: body).encoded() ?? [] }
        let req = IronwoodSigReq(seq: 1, nonce: 0x0123_4567_89ab_cdef)
        frame(.sigReq, req.encoded)
        frame(.bloom, IronwoodBloom().encoded)
        frame(.sigRes, IronwoodSigRes(answering: req, node: handshakeKey.publicKey, port: 1, parent: parentKey).encoded)
        frame(.announce, IronwoodAnnounce.root(handshakeKey, request: req).encoded)
        let res = IronwoodSigRes(answering: IronwoodSigReq(seq: 2, nonce: 7), node: handshakeKey.publicKey, port: 1, parent: parentKey)
        frame(.announce, IronwoodAnnounce(node: handshakeKey, parent: parentKey.publicKey, response: res).encoded)
        var bloom = IronwoodBloom()
        bloom.insert(YggdrasilBloomKey.transform(handshakeKey.publicKey).bytes)
        frame(.bloom, bloom.encoded)
        frame(.keepAlive, [])
        // A lookup by address, its notify, a session packet and a broken path, as the
        // "traffic" capture shows them.
        let parent = parentKey.publicKey, me = handshakeKey.publicKey
        frame(.pathLookup, IronwoodPathLookup(source: me, dest: YggdrasilBloomKey.partialKey(fromAddressBytes: OverlayAddress.addressBytes(for: parent)), from: [1]).encoded)
        frame(.pathNotify, IronwoodPathNotify(path: [1], watermark: 1, source: me, dest: parent, seq: 1_796_620_017, coords: [1],
                                              signature: IronwoodPathNotify.sign(seq: 1_796_620_017, coords: [1], by: handshakeKey)).encoded)
        let sessionInit = IronwoodSessionInit(kind: .initiate, current: [UInt8](repeating: 1, count: 32), next: [UInt8](repeating: 2, count: 32),
                                              keySeq: 0, seq: 1_796_620_017)
            .sealed(from: parentKey, to: me, ephemeralSecret: [UInt8](repeating: 0x42, count: 32)) ?? []
        frame(.traffic, IronwoodTraffic(path: [1], from: [], source: parent, dest: me, watermark: 1, payload: sessionInit).encoded)
        let data = IronwoodSessionTraffic.seal([1] + [UInt8](repeating: 0x60, count: 40), senderNext: [UInt8](repeating: 3, count: 32),
                                               senderKeySeq: 1, receiverKeySeq: 1, nonce: 1, sharedKey: fuzzSharedKey)
        frame(.traffic, IronwoodTraffic(path: [], from: [1], source: me, dest: parent, watermark: 1, payload: data.encoded).encoded)
        frame(.pathBroken, IronwoodPathBroken(path: [1], watermark: .max, source: me, dest: parent).encoded)
        return out
    }
}
