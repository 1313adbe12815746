import XCTest
import PlanetCore
@testable import PlanetYggdrasil

final class YggdrasilMetaTests: XCTestCase {
    func metaBytes(_ f: CaptureFixture, _ side: CaptureFixture.Side) throws -> [UInt8] {
        let stream = f.stream(side)
        guard case .complete(_, let consumed) = try YggdrasilMeta.decode(stream, password: f.password) else {
            XCTFail("no complete handshake in \(f.run) \(side)"); return []
        }
        return Array(stream.prefix(consumed))
    }

    /// Our encoder writes, byte for byte, what yggdrasil 0.5.12 wrote for the same key,
    /// priority and password (ed25519 signatures are deterministic).
    func testEncoderReproducesTheRealNodesHandshake() throws {
        for f in try CaptureFixture.all() {
            for side in CaptureFixture.Side.allCases {
                let ours = try YggdrasilMeta.encode(identity: f.identity(side), priority: f.priority(side), password: f.password)
                XCTAssertEqual(Hex.encode(ours), Hex.encode(try metaBytes(f, side)), "\(f.run) \(side)")
            }
        }
    }

    func testDecoderAcceptsTheRealNodesHandshake() throws {
        for f in try CaptureFixture.all() {
            for side in CaptureFixture.Side.allCases {
                let parse = try YggdrasilMeta.decode(f.stream(side), password: f.password)
                let expected = YggdrasilMeta(publicKey: f.identity(side).publicKey, priority: f.priority(side))
                XCTAssertEqual(parse, .complete(expected, consumed: 6 + 117), "\(f.run) \(side)")
            }
        }
        // The capture's plain run had the dialer ask for priority 5: the decoder must read it.
        let plain = try CaptureFixture.load(.plain)
        guard case .complete(let meta, _) = try YggdrasilMeta.decode(plain.dialerStream, password: []) else { return XCTFail() }
        XCTAssertEqual(meta.priority, 5)
    }

    func testWrongPasswordIsRejected() throws {
        let f = try CaptureFixture.load(.password)
        for side in CaptureFixture.Side.allCases {
            XCTAssertThrowsError(try YggdrasilMeta.decode(f.stream(side), password: [])) {
                XCTAssertEqual($0 as? YggdrasilMeta.HandshakeError, .passwordMismatch)
            }
            XCTAssertThrowsError(try YggdrasilMeta.decode(f.stream(side), password: Array("planetary-link-secreT".utf8))) {
                XCTAssertEqual($0 as? YggdrasilMeta.HandshakeError, .passwordMismatch)
            }
        }
        let plain = try CaptureFixture.load(.plain)
        XCTAssertThrowsError(try YggdrasilMeta.decode(plain.listenerStream, password: f.password)) {
            XCTAssertEqual($0 as? YggdrasilMeta.HandshakeError, .passwordMismatch)
        }
    }

    /// No single-bit flip of the real handshake yields a different key or version. Only the key
    /// is authenticated (the signature covers BLAKE2b(key)); the TLV framing and the priority
    /// are not, in yggdrasil either, so some flips there still decode: a priority value, or a
    /// major-version TLV whose type turns unknown (then the major version defaults to 0, which
    /// is the right value). Those, and nothing in the key or signature, are the flips accepted.
    func testNoFlippedBitChangesKeyOrVersion() throws {
        let f = try CaptureFixture.load(.password)
        let meta = try metaBytes(f, .dialer)
        let keyAndSignature = Set(22..<54).union((meta.count - 64)..<meta.count)
        var accepted = Set<Int>()
        for bit in 0..<(meta.count * 8) {
            var bad = meta
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            guard let parse = try? YggdrasilMeta.decode(bad, password: f.password) else { continue }
            switch parse {
            case .incomplete:
                // A flip that lengthens the length field only asks for more bytes.
                XCTAssertTrue((4..<6).contains(bit / 8), "bit \(bit): only the length field may ask for more")
            case .complete(let decoded, _):
                XCTAssertEqual(decoded.publicKey, f.dialer.publicKey, "bit \(bit)")
                XCTAssertEqual([decoded.majorVersion, decoded.minorVersion], [0, 5], "bit \(bit)")
                XCTAssertFalse(keyAndSignature.contains(bit / 8), "bit \(bit) in the key or signature accepted")
                accepted.insert(bit / 8)
            }
        }
        // The unauthenticated bytes that may change: the major TLV's type (6, 7) and the
        // priority TLV's type and value (54, 55, 58). Pinned so a looser decoder shows up here.
        XCTAssertEqual(accepted, [6, 7, 54, 55, 58])
    }

    func testWrongVersionIsRejected() throws {
        let f = try CaptureFixture.load(.plain)
        var meta = try metaBytes(f, .listener)
        // The minor version's value sits at offset 6 + 6 (major TLV) + 4 (minor TLV header).
        XCTAssertEqual(Array(meta[16..<18]), [0, 5])
        meta[17] = 4
        XCTAssertThrowsError(try YggdrasilMeta.decode(meta, password: [])) {
            XCTAssertEqual($0 as? YggdrasilMeta.HandshakeError, .incompatibleVersion(major: 0, minor: 4))
        }
        // Also with a valid signature: a correctly signed 0.6 handshake is still refused.
        let id = f.listener
        var w = ByteWriter()
        w.append("meta".utf8); w.u16(0)
        w.u16(0); w.u16(2); w.u16(0)
        w.u16(1); w.u16(2); w.u16(6)
        w.u16(2); w.u16(32); w.publicKey(id.publicKey)
        w.append(id.sign(YggdrasilMeta.signedDigest(publicKey: id.publicKey, password: [])))
        w.bytes[5] = UInt8(w.bytes.count - 6)
        XCTAssertThrowsError(try YggdrasilMeta.decode(w.bytes, password: [])) {
            XCTAssertEqual($0 as? YggdrasilMeta.HandshakeError, .incompatibleVersion(major: 0, minor: 6))
        }
    }

    /// What yggdrasil 0.4.7 (Debian bookworm's package) sends first on a link, captured once from
    /// it dialing a plain TCP listener: "meta", its versions 0 and 4 as uvarints, then a key.
    /// Reported as the old version it is, as soon as the two version bytes are in.
    func testAnOldYggdrasilIsNamed() throws {
        let old = Hex.decode("6d657461" + "0004" + "233dcd19f9b619879b349f3525fcb9885e600b052f690347b864623c624f87b7")!
        XCTAssertEqual(old.count, 38)
        for bytes in [old, Array(old.prefix(6))] {
            XCTAssertThrowsError(try YggdrasilMeta.decode(bytes, password: [])) {
                XCTAssertEqual($0 as? YggdrasilMeta.HandshakeError, .incompatibleVersion(major: 0, minor: 4))
                XCTAssertEqual(($0 as? YggdrasilMeta.HandshakeError)?.description, "remote speaks version 0.4, we speak 0.5")
            }
        }
        XCTAssertEqual(try YggdrasilMeta.decode(old.prefix(5), password: []), .incomplete(needed: 6))
    }

    /// Every proper prefix of the handshake asks for more bytes (never accepts, never errors);
    /// the whole handshake then completes however the stream was split.
    func testTruncationsAskForMore() throws {
        let f = try CaptureFixture.load(.plain)
        let meta = try metaBytes(f, .dialer)
        for cut in 0..<meta.count {
            let parse = try YggdrasilMeta.decode(meta.prefix(cut), password: [])
            XCTAssertEqual(parse, .incomplete(needed: cut < 6 ? 6 : meta.count), "cut at \(cut)")
        }
    }

    func testMalformedFieldsAreRejected() throws {
        let id = try CaptureFixture.load(.plain).listener
        func handshake(_ tlvs: (inout ByteWriter) -> Void, lengthAdjust: Int = 0) -> [UInt8] {
            var w = ByteWriter()
            w.append("meta".utf8); w.u16(0)
            tlvs(&w)
            w.append(id.sign(YggdrasilMeta.signedDigest(publicKey: id.publicKey, password: [])))
            let n = w.bytes.count - 6 + lengthAdjust
            w.bytes[4] = UInt8(n >> 8); w.bytes[5] = UInt8(n & 0xff)
            return w.bytes
        }
        func standard(_ w: inout ByteWriter) {
            w.u16(0); w.u16(2); w.u16(0)
            w.u16(1); w.u16(2); w.u16(5)
            w.u16(2); w.u16(32); w.publicKey(id.publicKey)
        }
        func expect(_ bytes: [UInt8], _ error: YggdrasilMeta.HandshakeError, line: UInt = #line) {
            XCTAssertThrowsError(try YggdrasilMeta.decode(bytes, password: []), line: line) {
                XCTAssertEqual($0 as? YggdrasilMeta.HandshakeError, error, line: line)
            }
        }
        // Control: the standard fields without a priority TLV decode (priority 0).
        XCTAssertEqual(try YggdrasilMeta.decode(handshake(standard), password: []),
                       .complete(YggdrasilMeta(publicKey: id.publicKey), consumed: 6 + 6 + 6 + 36 + 64))
        // Unknown TLV types are skipped (later minor versions may add some).
        let unknown = handshake { standard(&$0); $0.u16(99); $0.u16(3); $0.append([1, 2, 3]) }
        guard case .complete = try YggdrasilMeta.decode(unknown, password: []) else { return XCTFail() }
        expect(Array("mesa".utf8) + [0, 64] + [UInt8](repeating: 0, count: 64), .notYggdrasil)
        expect(Array("GET / HTTP/1.1\r\n".utf8), .notYggdrasil)
        expect(Array("meta".utf8) + [0, 63] + [UInt8](repeating: 0, count: 63), .lengthTooShort(63))
        expect(handshake { w in w.u16(0); w.u16(2); w.u16(0); w.u16(1); w.u16(2); w.u16(5) }, .missingPublicKey)
        expect(handshake { standard(&$0); $0.u16(3); $0.u16(2); $0.u16(1) }, .malformedTLV(type: 3))
        expect(handshake { w in w.u16(0); w.u16(1); w.u8(0); w.u16(1); w.u16(2); w.u16(5) }, .malformedTLV(type: 0))
        expect(handshake { w in w.u16(2); w.u16(31); w.append(id.publicKey.bytes.prefix(31)) }, .malformedTLV(type: 2))
        // A TLV running into the signature, and stray bytes too few for a TLV header.
        expect(handshake { standard(&$0); $0.u16(7); $0.u16(10); $0.append([1, 2]) }, .malformedTLV(type: nil))
        expect(handshake { standard(&$0); $0.append([0, 0]) }, .malformedTLV(type: nil))
        // Missing versions count as 0.0, as in Go: refused.
        expect(handshake { w in w.u16(2); w.u16(32); w.publicKey(id.publicKey) }, .incompatibleVersion(major: 0, minor: 0))
        XCTAssertThrowsError(try YggdrasilMeta.decode([UInt8](), password: [UInt8](repeating: 1, count: 65)))
        XCTAssertThrowsError(try YggdrasilMeta.encode(identity: id, priority: 0, password: [UInt8](repeating: 1, count: 65)))
        XCTAssertNoThrow(try YggdrasilMeta.encode(identity: id, priority: 0, password: [UInt8](repeating: 1, count: 64)))
    }

    /// Random input never traps and never yields a handshake (no valid signature by chance).
    func testRandomBytesNeverCrashOrAccept() throws {
        var rng = SplitMix64(state: 0x5eed)
        let f = try CaptureFixture.load(.plain)
        let real = try metaBytes(f, .listener)
        for i in 0..<3000 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = rng.bytes(rng.below(200))
                if rng.below(2) == 0 { bytes = Array("meta".utf8) + bytes }
            } else {
                // Mutations of the real handshake reach deeper than pure noise.
                bytes = real
                for _ in 0...rng.below(4) { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
                bytes = Array(bytes.prefix(rng.below(bytes.count + 1)))
            }
            if case .complete(let meta, _)? = try? YggdrasilMeta.decode(bytes, password: []) {
                // Only an unchanged handshake (a mutation that wrote the same byte) may pass.
                XCTAssertEqual(Array(bytes.prefix(real.count)), real, "accepted \(meta) from altered bytes")
            }
        }
    }
}
