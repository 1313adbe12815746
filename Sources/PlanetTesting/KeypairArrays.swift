import PlanetCore
import PlanetLink

/// Array conveniences over `Keypair`'s one seal and one open (which work on memory the caller
/// lends, as the data path does): tests build and check frames as arrays.
extension Keypair {
    /// Appends a sealed frame to `out`; false (appending nothing) once the counter is exhausted.
    @discardableResult
    public func seal(type: UInt8, plaintext: UnsafeRawBufferPointer, appendingTo out: inout [UInt8]) -> Bool {
        var frame = [UInt8](repeating: 0, count: Keypair.headerLength)
        frame.append(contentsOf: plaintext)
        frame.append(contentsOf: [UInt8](repeating: 0, count: Keypair.tagLength))
        let length = plaintext.count
        guard frame.withUnsafeMutableBytes({ sealInPlace(type: type, buffer: $0, length: length) }) else { return false }
        out.append(contentsOf: frame)
        return true
    }

    @discardableResult
    public func seal(type: UInt8, plaintext: [UInt8], appendingTo out: inout [UInt8]) -> Bool {
        plaintext.withUnsafeBytes { seal(type: type, plaintext: $0, appendingTo: &out) }
    }

    /// Seals `frame` in place: 13 bytes of header room from `start`, the plaintext to the end;
    /// the tag is appended.
    @discardableResult
    public func sealInPlace(type: UInt8, frame: inout [UInt8], at start: Int = 0, encryptedPrefix: Int? = nil,
                            authenticatedSuffix: Int? = nil) -> Bool {
        guard start >= 0, frame.count - start >= Keypair.headerLength else { return false }
        let length = frame.count - start - Keypair.headerLength
        frame.append(contentsOf: [UInt8](repeating: 0, count: Keypair.tagLength))
        let sealed = frame.withUnsafeMutableBytes { raw in
            sealInPlace(type: type, buffer: UnsafeMutableRawBufferPointer(rebasing: raw[start...]), length: length,
                        encryptedPrefix: encryptedPrefix, authenticatedSuffix: authenticatedSuffix)
        }
        if !sealed { frame.removeLast(Keypair.tagLength) }
        return sealed
    }

    public func open(frame: inout [UInt8], now: Instant, encryptedPrefix: Int? = nil) -> OpenResult {
        frame.withUnsafeMutableBytes { open(frame: $0, now: now, encryptedPrefix: encryptedPrefix) }
    }
}

extension LinkLayer {
    /// The tests' older way to send: `buffer` holds 13 bytes of headroom, then the inner frame;
    /// the frame is sent the one way there is (`send(frameLength:…)`).
    @discardableResult
    public func send(headroomFrame buffer: [UInt8], to key: PublicKey, now: Instant, payloadSealed: Bool = false) -> Bool {
        let frame = buffer.dropFirst(Keypair.headerLength)
        return send(frameLength: frame.count, to: key, now: now, payloadSealed: payloadSealed) { out in
            frame.withUnsafeBytes { out.copyMemory(from: $0) }
            return true
        }
    }
}
