import PlanetCore

/// An overlay packet (inner frame 0x20): what relays forward hop by hop, inside each link's
/// encryption. Relays read only this header; the session message after it is end-to-end.
///
///     0      0x20
///     1      hop limit      decremented by each relay; 0 → a "hop limit exceeded" report
///     2-17   destination    overlay address (200::/7 node address or an address in a 300::/64)
///     18-33  source         the sending node's overlay address (where error reports go)
///     34-    session message
public enum OverlayPacket {
    public static let frameType = InnerFrameType.overlay.rawValue
    public static let headerLength = 34
    public static let defaultHopLimit: UInt8 = 64

    public static func make(hopLimit: UInt8, destination: IPv6Address, source: IPv6Address, message: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerLength + message.count)
        out.append(frameType)
        out.append(hopLimit)
        destination.append(to: &out)
        source.append(to: &out)
        out.append(contentsOf: message)
        return out
    }

    /// Writes the header into the 34 bytes of `frame` from `offset` (a buffer whose message part
    /// is already in place behind them).
    /// The same into borrowed memory (a frame being built in a send slot), at its start.
    public static func writeHeader(into frame: UnsafeMutableRawBufferPointer, hopLimit: UInt8, destination: IPv6Address,
                                   source: IPv6Address) {
        frame[0] = frameType
        frame[1] = hopLimit
        destination.write(to: frame, at: 2)
        source.write(to: frame, at: 18)
    }

    public static func writeHeader(into frame: inout [UInt8], at offset: Int = 0, hopLimit: UInt8, destination: IPv6Address,
                                   source: IPv6Address) {
        frame[offset] = frameType
        frame[offset + 1] = hopLimit
        frame.withUnsafeMutableBytes { raw in
            destination.write(to: raw, at: offset + 2)
            source.write(to: raw, at: offset + 18)
        }
    }

    public struct Header: Equatable {
        public var hopLimit: UInt8
        public var destination: IPv6Address
        public var source: IPv6Address
    }

    public static func parseHeader(_ frame: [UInt8]) -> Header? {
        frame.withUnsafeBytes { parseHeader(raw: $0) }
    }
}
