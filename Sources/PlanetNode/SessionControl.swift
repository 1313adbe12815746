import PlanetCore
import PlanetLink

/// What two nodes tell each other privately, end to end, inside an established session: for
/// hole punching first (candidate endpoints), for whatever needs the peer's authenticated
/// word next. A control message is a session message of its own type (0x07) sealed with the
/// session's keys exactly as data is: the same receiver index, counter and replay window, the
/// type byte bound as associated data. Relays see only that a session message passes.
///
///     plaintext:  u8 control type   (`SessionControlType`; unknown types are dropped and counted)
///                 body              (the type's own encoding, at most `maxBody` bytes)
public enum SessionControlType: UInt8, Sendable, CaseIterable {
    /// Candidate endpoints for a direct link (hole punching; Docs/protocol.md, "Hole punching").
    /// The node itself handles it (Node+Punching.swift).
    case endpoints = 0x01
    /// For experiments and tests: planetd registers no handler and sends none, so a peer's
    /// message of this type is counted as unknown.
    case experimental = 0xff
}

/// Receives the control messages of one type. Runs on the node's thread, as everything in it.
public protocol SessionControlHandler: AnyObject {
    var controlType: SessionControlType { get }
    /// An authentic control message from `peer` (whose key the session proved).
    func receive(_ body: ArraySlice<UInt8>, from peer: PublicKey, now: Instant)
}

/// The registered handlers, one per control type.
struct SessionControlHandlers {
    private var byType: [UInt8: SessionControlHandler] = [:]

    mutating func register(_ h: SessionControlHandler) {
        precondition(byType[h.controlType.rawValue] == nil, "control type \(h.controlType) is taken")
        byType[h.controlType.rawValue] = h
    }

    subscript(type: UInt8) -> SessionControlHandler? { byType[type] }
}

extension Node {
    /// A control body fits one overlay packet at the TUN's MTU with every header around it.
    public static let maxControlBody = 1024

    public func register(_ handler: SessionControlHandler) { controlHandlers.register(handler) }

    /// Seals a control message in the session with `peer` and sends it. False when there is no
    /// established session yet (one is started, so a later try can succeed), the body is too
    /// large, or there is no route (counted).
    @discardableResult
    public func sendControl(_ type: SessionControlType, body: [UInt8], to peer: PublicKey, now: Instant) -> Bool {
        guard body.count <= Node.maxControlBody else { return false }
        var message = [type.rawValue]
        message.append(contentsOf: body)
        return sendControlMessage(message, to: peer, now: now)
    }

    /// Seals any bytes as a control message's plaintext (type byte and body, or nothing at
    /// all) and sends them as `sendControl` does. Only for the fuzzer (PlanetFuzz
    /// `session-control`), which must reach the receiver's parsers with what no node sends.
    @discardableResult
    package func sendControlMessage(_ message: [UInt8], to peer: PublicKey, now: Instant) -> Bool {
        let session = sessions.session(for: peer, now: now)
        guard let keypair = session.current, !keypair.isExpired(at: now), !keypair.isExhausted else {
            if session.initiator == nil { startHandshake(session, now: now) }
            pump(now: now)
            return false
        }
        let txBefore = session.txPackets
        message.withUnsafeBytes {
            sendData($0, type: .control, hopLimit: OverlayPacket.defaultHopLimit, destinationAddress: peer.address,
                     session: session, keypair: keypair, now: now)
        }
        pump(now: now)
        return session.txPackets > txBefore
    }

    /// A control message for us, opened where it lies and handed to its type's handler.
    func receiveControl(_ message: UnsafeMutableRawBufferPointer, now: Instant) {
        guard let (peer, _, range) = openSealed(message, now: now) else { return }
        guard !range.isEmpty else { stats.drop(.controlMalformed); return }
        guard let handler = controlHandlers[message[range.lowerBound]] else { stats.drop(.controlUnknownType); return }
        stats.controlReceived += 1
        handler.receive(Array(UnsafeRawBufferPointer(rebasing: message[(range.lowerBound + 1)..<range.upperBound]))[...],
                        from: peer, now: now)
    }
}
