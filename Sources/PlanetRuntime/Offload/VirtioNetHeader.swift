/// struct virtio_net_hdr, the 10 bytes a TUN opened with IFF_VNET_HDR puts before every packet
/// (little-endian fields). It is how the kernel hands us unchecksummed packets and 64 KiB TCP
/// super-packets (TSO), and how we hand it coalesced ones back (GRO-like).
///
///     0  flags        1 = NEEDS_CSUM: checksum bytes from csumStart, store at csumStart+csumOffset
///     1  gsoType      0 none, 1 TCPv4, 4 TCPv6, 5 UDP_L4 (USO, either IP version) (0x80 ECN)
///     2  hdrLen       bytes of headers (IP + TCP/UDP) before the payload
///     4  gsoSize      payload bytes per segment (the MSS; for UDP each datagram's payload)
///     6  csumStart
///     8  csumOffset
public struct VirtioNetHeader: Equatable {
    public static let length = 10
    public static let needsChecksum: UInt8 = 1
    public static let gsoNone: UInt8 = 0
    public static let gsoTCPv4: UInt8 = 1
    public static let gsoTCPv6: UInt8 = 4
    public static let gsoUDPL4: UInt8 = 5
    public static let gsoECN: UInt8 = 0x80

    public var flags: UInt8 = 0
    public var gsoType: UInt8 = 0
    public var hdrLen: UInt16 = 0
    public var gsoSize: UInt16 = 0
    public var csumStart: UInt16 = 0
    public var csumOffset: UInt16 = 0

    public init() {}

    public init(flags: UInt8, gsoType: UInt8, hdrLen: UInt16, gsoSize: UInt16, csumStart: UInt16, csumOffset: UInt16) {
        self.flags = flags
        self.gsoType = gsoType
        self.hdrLen = hdrLen
        self.gsoSize = gsoSize
        self.csumStart = csumStart
        self.csumOffset = csumOffset
    }

    public init(reading p: UnsafeRawPointer) {
        flags = p.load(fromByteOffset: 0, as: UInt8.self)
        gsoType = p.load(fromByteOffset: 1, as: UInt8.self)
        hdrLen = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        gsoSize = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        csumStart = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        csumOffset = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
    }

    public func write(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: flags, toByteOffset: 0, as: UInt8.self)
        p.storeBytes(of: gsoType, toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: hdrLen.littleEndian, toByteOffset: 2, as: UInt16.self)
        p.storeBytes(of: gsoSize.littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: csumStart.littleEndian, toByteOffset: 6, as: UInt16.self)
        p.storeBytes(of: csumOffset.littleEndian, toByteOffset: 8, as: UInt16.self)
    }
}
