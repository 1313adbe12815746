import PlanetCore

/// The end-to-end part of an overlay packet, opened only by the destination node.
///
///     0x01 handshake init       body: PlanetLink handshake message 1 (domain "planetary-session-v1")
///     0x02 handshake response   body: message 2
///     0x03 handshake finish     body: message 3
///     0x04 data                 u32 receiver index, u64 counter, ChaCha20-Poly1305 of an IPv6 packet, 16-byte tag
///                               (the 13 bytes from the type byte on are the associated data)
///     0x05 error report         from a relay or the destination back to the source; see `ErrorReport`
///     0x06 data, checksum partial   as 0x04; the packet's TCP/UDP checksum holds only the pseudo-header sum
///     0x07 control              as 0x04, sealing a control message instead of a packet: u8 control type, body
///                               (`SessionControlType`; SessionControl.swift)
public enum SessionMessageType: UInt8 {
    case handshakeInit = 0x01
    case handshakeResponse = 0x02
    case handshakeFinish = 0x03
    case data = 0x04
    case errorReport = 0x05
    case dataChecksumPartial = 0x06
    case control = 0x07

    /// Both data types: end-to-end ciphertext after a 13-byte header, whose loss relays report.
    public static func isData(_ type: UInt8) -> Bool { type == data.rawValue || type == dataChecksumPartial.rawValue }

    /// Sealed with the session's keys after a 13-byte header (data and control): relays
    /// forward them in place with a sealed-payload link frame.
    public static func isSealedEndToEnd(_ type: UInt8) -> Bool { isData(type) || type == control.rawValue }
}

/// A signed report from a node on the path that it could not deliver a packet: no route, hop
/// limit exceeded, or too big. It quotes the start of the invoking (still sealed) session data
/// message, which the source can decrypt with its own send key to rebuild a real ICMPv6 error for
/// the local program — relays never see the plaintext, and traceroute still works.
///
///     0      0x05
///     1      kind: 1 no route, 2 hop limit exceeded, 3 packet too big
///     2-5    u32 MTU (packet too big), else 0
///     6-37   reporter's public key (its overlay address is derived from it)
///     38-101 ed25519 signature by the reporter over "planetary-error-v1" ‖ bytes 1-37 ‖ quoted
///     102-   quoted: the first bytes (at most 160) of the invoking session message
public struct ErrorReport: Equatable {
    public enum Kind: UInt8 { case noRoute = 1, hopLimitExceeded = 2, packetTooBig = 3 }

    public static let maxQuoted = 160
    static let domain = Array("planetary-error-v1".utf8)

    public var kind: Kind
    public var mtu: UInt32
    public var reporter: PublicKey
    public var signature: [UInt8]
    public var quoted: [UInt8]

    static func signedBytes(kind: Kind, mtu: UInt32, reporter: PublicKey, quoted: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: domain.count + 37 + quoted.count)
        w.append(domain)
        w.u8(kind.rawValue)
        w.u32(mtu)
        w.publicKey(reporter)
        w.append(quoted)
        return w.bytes
    }

    public static func make(kind: Kind, mtu: UInt32 = 0, reporter: NodeIdentity, invoking message: ArraySlice<UInt8>) -> [UInt8] {
        let quoted = Array(message.prefix(maxQuoted))
        let signature = reporter.sign(signedBytes(kind: kind, mtu: mtu, reporter: reporter.publicKey, quoted: quoted))
        var w = ByteWriter(capacity: 102 + quoted.count)
        w.u8(SessionMessageType.errorReport.rawValue)
        w.u8(kind.rawValue)
        w.u32(mtu)
        w.publicKey(reporter.publicKey)
        w.append(signature)
        w.append(quoted)
        return w.bytes
    }

    /// Parses and checks the signature; nil for anything malformed or forged.
    public init?(_ message: ArraySlice<UInt8>) {
        var r = ByteReader(Array(message))
        guard r.u8() == SessionMessageType.errorReport.rawValue,
              let k = r.u8().flatMap(Kind.init(rawValue:)), let mtu = r.u32(),
              let reporter = r.publicKey(), let sig = r.array(64) else { return nil }
        let quoted = Array(r.rest())
        guard quoted.count <= ErrorReport.maxQuoted,
              reporter.verify(signature: sig, message: ErrorReport.signedBytes(kind: k, mtu: mtu, reporter: reporter, quoted: quoted)) else { return nil }
        self.kind = k
        self.mtu = mtu
        self.reporter = reporter
        self.signature = sig
        self.quoted = quoted
    }
}
