import XCTest
@testable import PlanetYggdrasil

extension CaptureFixture {
    /// The ironwood frames `side` sent, after its 123-byte handshake.
    func frames(_ side: Side) throws -> [IronwoodFrame] {
        var decoder = IronwoodFrameDecoder()
        decoder.append(stream(side).dropFirst(123))
        var frames: [IronwoodFrame] = []
        while let frame = try decoder.next() { frames.append(frame) }
        return frames
    }

    func bodies(_ side: Side, _ type: IronwoodFrame.FrameType) throws -> [[UInt8]] {
        try frames(side).filter { $0.type == type }.map(\.body)
    }
}
