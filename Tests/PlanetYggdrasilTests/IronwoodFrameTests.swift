import XCTest
import PlanetCore
@testable import PlanetYggdrasil

final class IronwoodFrameTests: XCTestCase {
    /// The frames after the handshake in a captured stream, cut by a reader written here from
    /// the format (uvarint length, type, body), independent of `IronwoodFrameDecoder`.
    func referenceFrames(_ stream: [UInt8]) -> [(type: UInt8, body: [UInt8], wire: [UInt8])] {
        var i = 123, out: [(UInt8, [UInt8], [UInt8])] = []
        while i < stream.count {
            var length = 0, shift = 0, j = i
            while true { let b = Int(stream[j]); j += 1; length |= (b & 0x7f) << shift; shift += 7; if b < 0x80 { break } }
            out.append((stream[j], Array(stream[(j + 1)..<(j + length)]), Array(stream[i..<(j + length)])))
            i = j + length
        }
        XCTAssertEqual(i, stream.count, "the capture ends inside a frame")
        return out
    }

    func testUvarintMatchesGo() {
        // Values and encodings as Go's binary.AppendUvarint writes them.
        let cases: [(UInt64, [UInt8])] = [(0, [0]), (1, [1]), (127, [0x7f]), (128, [0x80, 1]), (300, [0xac, 2]),
                                          (131_070, [0xfe, 0xff, 7]), (UInt64.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1])]
        for (v, wire) in cases {
            var out = [UInt8]()
            Uvarint.append(v, to: &out)
            XCTAssertEqual(out, wire, "\(v)")
            XCTAssertEqual(Uvarint.size(v), wire.count)
            XCTAssertEqual(Uvarint.decode(wire + [0x55]), .value(v, length: wire.count))
            XCTAssertEqual(Uvarint.decode(wire.dropLast()), .incomplete)
        }
        // Go accepts a non-minimal encoding; refuses an eleventh byte and a 65th bit.
        XCTAssertEqual(Uvarint.decode([0x80, 0x00]), .value(0, length: 2))
        XCTAssertEqual(Uvarint.decode([UInt8](repeating: 0xff, count: 9) + [2]), .overflow)
        XCTAssertEqual(Uvarint.decode([UInt8](repeating: 0x80, count: 10) + [0]), .overflow)
        XCTAssertEqual(Uvarint.decode([UInt8](repeating: 0x80, count: 10)), .overflow)
    }

    /// The decoder cuts the real streams into the same frames as the reference reader, whether
    /// the bytes come all at once or one at a time, and re-encoding each gives its bytes back.
    func testDecoderSplitsTheCapturedStreams() throws {
        for f in try CaptureFixture.all() {
            for side in CaptureFixture.Side.allCases {
                let stream = f.stream(side)
                let expected = referenceFrames(stream)
                XCTAssertGreaterThanOrEqual(expected.count, 6)
                for chunk in [stream.count, 1, 7] {
                    var decoder = IronwoodFrameDecoder()
                    var frames: [IronwoodFrame] = []
                    var offset = 123
                    while offset < stream.count {
                        decoder.append(stream[offset..<min(offset + chunk, stream.count)])
                        offset += chunk
                        while let frame = try decoder.next() { frames.append(frame) }
                    }
                    XCTAssertEqual(decoder.pendingBytes, 0)
                    XCTAssertEqual(frames.map(\.type.rawValue), expected.map(\.type), "\(f.run) \(side) chunk \(chunk)")
                    XCTAssertEqual(frames.map(\.body), expected.map(\.body))
                    XCTAssertEqual(frames.map { $0.encoded() }, expected.map(\.wire))
                }
                // What the capture shows a link opening with: SigReq, then the empty Bloom.
                XCTAssertEqual(expected.prefix(2).map(\.type), [2, 5], "\(f.run) \(side)")
            }
        }
        // The listener's stream ends with a keepalive: two bytes, 01 01.
        let plain = try CaptureFixture.load(.plain)
        XCTAssertEqual(Array(plain.listenerStream.suffix(2)), [1, 1])
        XCTAssertEqual(IronwoodFrame(type: .keepAlive).encoded(), [1, 1])
    }

    func testBadFramesEndTheStream() throws {
        func error(_ bytes: [UInt8]) -> IronwoodFrameDecoder.FrameError? {
            var d = IronwoodFrameDecoder()
            d.append(bytes)
            do { while try d.next() != nil {} } catch { return error }
            return nil
        }
        XCTAssertEqual(error([0]), .empty)
        XCTAssertEqual(error([1, 10]), .unknownType(10))
        XCTAssertEqual(error([5, 0xff]), .unknownType(0xff))  // judged before the body arrives
        XCTAssertEqual(error([0xff, 0xff, 0x07]), .oversize(131_071))  // before any of it arrives
        XCTAssertEqual(error([0xfe, 0xff, 0x07]), nil)  // exactly the limit: waits for the body
        XCTAssertEqual(error([UInt8](repeating: 0x80, count: 10) + [1]), .badLength)
        XCTAssertEqual(error([2, 0, 0, 1, 1]), nil)  // a dummy frame is accepted (ironwood ignores it)
        // The error sticks: bytes after it are never read as frames.
        var d = IronwoodFrameDecoder()
        d.append([0, 1, 1])
        XCTAssertThrowsError(try d.next())
        XCTAssertThrowsError(try d.next())
        // A frame of the maximum size is accepted and encodes; one byte more does not encode.
        let body = [UInt8](repeating: 0xab, count: IronwoodFrame.maxLength - 1)
        let wire = try XCTUnwrap(IronwoodFrame(type: .traffic, body: body).encoded())
        var big = IronwoodFrameDecoder()
        big.append(wire)
        XCTAssertEqual(try big.next(), IronwoodFrame(type: .traffic, body: body))
        XCTAssertNil(IronwoodFrame(type: .traffic, body: body + [0]).encoded())
    }

    /// Random bytes, and the real stream with random damage, never trap and never buffer more
    /// than one maximal frame.
    func testRandomStreamsNeverCrash() throws {
        var rng = SplitMix64(state: 0xf4a3e)
        let real = Array(try CaptureFixture.load(.password).dialerStream.dropFirst(123))
        for i in 0..<2000 {
            var bytes = i % 2 == 0 ? rng.bytes(rng.below(300)) : real
            if i % 2 == 1 { for _ in 0...rng.below(3) { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) } }
            var d = IronwoodFrameDecoder()
            var offset = 0
            do {
                while offset < bytes.count {
                    let n = 1 + rng.below(64)
                    d.append(bytes[offset..<min(offset + n, bytes.count)])
                    offset += n
                    while let frame = try d.next() { XCTAssertLessThan(frame.body.count, IronwoodFrame.maxLength) }
                }
            } catch {}
            XCTAssertLessThanOrEqual(d.pendingBytes, IronwoodFrame.maxLength + Uvarint.maxBytes + 64)
        }
    }
}
