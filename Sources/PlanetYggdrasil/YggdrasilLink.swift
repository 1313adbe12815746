import PlanetCore

/// One Yggdrasil 0.5 stream connection (tcp:// or tls://) as a state machine: bytes and the clock
/// in; events, bytes to write and one deadline out. The runtime owns the socket; this owns the
/// rules (Docs/protocol.md, "Yggdrasil 0.5 links"):
///
/// 1. **Meta handshake** (yggdrasil-go src/core/link.go `handler`, version.go). Both sides write
///    their meta at once, then read the other's; the whole exchange must finish within 6 s.
///    Refused, in yggdrasil's order: a bad handshake (not "meta", malformed, another version,
///    a signature that fails under our password), a key outside the `?key=` pins, an inbound key
///    outside a non-empty `allowedPublicKeys` (outbound peers were named by the operator, so
///    yggdrasil does not check them, and neither do Planetary's own links), and our own key
///    (ironwood's HandleConn refuses it).
/// 2. **Ironwood framing** (ironwood network/peers.go `handler`): uvarint length, type, body, at
///    most 131070 bytes; the first frame that fails to decode closes the link.
/// 3. **Keepalive and read deadline** (ironwood peers.go `peerMonitor`):
///    - sending any frame other than a keepalive (or dummy) arms a 3 s read deadline, unless one
///      is already armed (it is not pushed later by further sends);
///    - receiving any frame, a keepalive included, disarms it;
///    - receiving a frame other than a keepalive (or dummy) starts a 1 s timer, unless one runs;
///      when it fires we send a keepalive (`01 01`), so the sender's deadline is met even when
///      we have nothing to say. Sending any frame, a keepalive included, stops that timer;
///    - the deadline passing closes the link (`readTimeout`).
///    So a keepalive arms nothing: two idle peers exchange nothing at all, and ironwood's own
///    traffic (a SigReq every few minutes, announcements) is what proves the link alive.
public struct YggdrasilLink {
    /// yggdrasil's handshake deadline (link.go: `SetDeadline(now + 6 s)` around the exchange).
    public static let handshakeTimeout = 6.0
    /// ironwood's default `peerTimeout`: how long a sender waits for any frame back.
    public static let peerTimeout = 3.0
    /// ironwood's default `peerKeepAliveDelay`: how long a receiver waits before answering with a
    /// keepalive when it has sent nothing else.
    public static let keepAliveDelay = 1.0
    /// Unwritten bytes beyond which traffic frames are dropped instead of queued (counted by the
    /// owner through `send`'s result): a peer that stops reading must not grow our memory.
    /// Protocol frames (tree, lookups) are small and rare and always queue.
    public static let maxPendingOutput = 4 << 20

    public enum Direction: String, Sendable {
        /// We accepted the connection on a listener.
        case inbound
        /// We dialled a configured (or admin-added) peer.
        case outbound
    }

    /// What the URI and the node's configuration ask of this link.
    public struct Options: Sendable, Equatable {
        /// The link password (`?password=`, at most 64 bytes), keying the handshake signature.
        public var password: [UInt8]
        /// Our priority for this link (`?priority=`); the link uses the larger of both sides'.
        public var priority: UInt8
        /// `?key=` pins: when not empty, the peer's key must be one of them.
        public var pinnedKeys: Set<PublicKey>
        /// `allowedPublicKeys`: when not empty, an inbound peer's key must be one of them.
        public var allowedKeys: Set<PublicKey>

        public init(password: [UInt8] = [], priority: UInt8 = 0, pinnedKeys: Set<PublicKey> = [],
                    allowedKeys: Set<PublicKey> = []) {
            self.password = password
            self.priority = priority
            self.pinnedKeys = pinnedKeys
            self.allowedKeys = allowedKeys
        }
    }

    public enum Event: Equatable, Sendable {
        /// The handshake passed every check; frames may flow. `priority` is the larger of ours and
        /// theirs, as yggdrasil passes it to ironwood.
        case established(peerKey: PublicKey, priority: UInt8)
        /// A frame for the router: everything but keepalives and dummies, which this consumes.
        case frame(IronwoodFrame)
        /// The link is over; the owner closes the socket. Reported once; nothing follows it.
        case closed(YggdrasilLinkClose)
    }

    public enum State: Equatable, Sendable {
        case handshaking
        case established(peerKey: PublicKey, priority: UInt8)
        case closed(YggdrasilLinkClose)
    }

    public let direction: Direction
    public let options: Options
    public private(set) var state: State = .handshaking
    private let ownKey: PublicKey

    /// Bytes waiting to be written, in order; the owner takes them with `takeOutput()`.
    private var output: [UInt8] = []
    private var handshakeBuffer: [UInt8] = []
    private var decoder = IronwoodFrameDecoder()
    private var handshakeDeadline: Instant
    /// ironwood's read deadline, armed by a send (`deadlined`).
    private var readDeadline: Instant = .never
    /// ironwood's keepAliveTimer: when we owe the peer a keepalive.
    private var keepAliveDue: Instant = .never

    /// Frames (keepalives included) received and sent since the handshake.
    public private(set) var framesIn: UInt64 = 0
    public private(set) var framesOut: UInt64 = 0
    /// Traffic frames `send` refused because the peer is not reading.
    public private(set) var dropped: UInt64 = 0

    /// Starts a link on a fresh connection: our handshake is queued for writing at once (both
    /// sides write first, so neither waits for the other), and the 6 s deadline starts now.
    /// Fails only for a password over 64 bytes, which URI parsing already refuses.
    public init(identity: NodeIdentity, direction: Direction, options: Options, now: Instant)
        throws(YggdrasilMeta.HandshakeError) {
        self.direction = direction
        self.options = options
        self.ownKey = identity.publicKey
        output = try YggdrasilMeta.encode(identity: identity, priority: options.priority, password: options.password)
        handshakeDeadline = now.adding(seconds: Self.handshakeTimeout)
    }

    public var isClosed: Bool { if case .closed = state { return true } else { return false } }
    public var isEstablished: Bool { if case .established = state { return true } else { return false } }
    public var peerKey: PublicKey? { if case .established(let k, _) = state { return k } else { return nil } }

    /// Bytes queued and not yet taken by the owner.
    public var pendingOutput: Int { output.count }

    /// Everything queued for the socket, in order; the owner writes it (in one write when it can)
    /// and keeps what the socket did not take.
    public mutating func takeOutput() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// When `handleDeadline` must next run (`.never` when closed).
    public var nextDeadline: Instant {
        switch state {
        case .handshaking: return handshakeDeadline
        case .established: return min(readDeadline, keepAliveDue)
        case .closed: return .never
        }
    }

    /// Bytes the socket delivered, in any split. Returns what they caused, in order.
    public mutating func receive(_ bytes: some Collection<UInt8>, now: Instant) -> [Event] {
        var events: [Event] = []
        switch state {
        case .closed: return []
        case .handshaking:
            handshakeBuffer.append(contentsOf: bytes)
            let consumed: Int
            let meta: YggdrasilMeta
            do throws(YggdrasilMeta.HandshakeError) {
                switch try YggdrasilMeta.decode(handshakeBuffer, password: options.password) {
                case .incomplete: return []
                case .complete(let m, let n): (meta, consumed) = (m, n)
                }
            } catch {
                return [close(.handshake(error))]
            }
            if let refusal = refusal(of: meta.publicKey) { return [close(refusal)] }
            let priority = max(options.priority, meta.priority)
            state = .established(peerKey: meta.publicKey, priority: priority)
            events.append(.established(peerKey: meta.publicKey, priority: priority))
            // Frames may arrive in the same read as the handshake.
            decoder.append(handshakeBuffer[consumed...])
            handshakeBuffer = []
        case .established:
            decoder.append(bytes)
        }
        drainFrames(now: now, into: &events)
        return events
    }

    /// yggdrasil's checks after a handshake that decoded and verified, in its order.
    private func refusal(of key: PublicKey) -> YggdrasilLinkClose? {
        if !options.pinnedKeys.isEmpty, !options.pinnedKeys.contains(key) { return .pinMismatch(key) }
        if direction == .inbound, !options.allowedKeys.isEmpty, !options.allowedKeys.contains(key) {
            return .notAllowed(key)
        }
        if key == ownKey { return .ownKey }
        return nil
    }

    private mutating func drainFrames(now: Instant, into events: inout [Event]) {
        while true {
            let frame: IronwoodFrame
            do throws(IronwoodFrameDecoder.FrameError) {
                guard let f = try decoder.next() else { return }
                frame = f
            } catch {
                events.append(close(.frame(error)))
                return
            }
            framesIn &+= 1
            // ironwood's monitor.recv: any frame clears the read deadline; one that is not a
            // keepalive or dummy obliges us to answer within 1 s.
            readDeadline = .never
            switch frame.type {
            case .keepAlive, .dummy:
                continue
            default:
                if keepAliveDue == .never { keepAliveDue = now.adding(seconds: Self.keepAliveDelay) }
                events.append(.frame(frame))
            }
        }
    }

    /// Queues a frame for the peer. False when it was not queued: the link is not established,
    /// the frame is over 131070 bytes (ironwood drops those rather than send them), or it is
    /// traffic and the peer has left `maxPendingOutput` bytes unread (counted in `dropped`).
    @discardableResult
    public mutating func send(_ frame: IronwoodFrame, now: Instant) -> Bool {
        guard isEstablished else { return false }
        if frame.type == .traffic, output.count > Self.maxPendingOutput {
            dropped &+= 1
            return false
        }
        let length = frame.body.count + 1
        guard length <= IronwoodFrame.maxLength else { return false }
        Uvarint.append(UInt64(length), to: &output)
        output.append(frame.type.rawValue)
        output.append(contentsOf: frame.body)
        sent(frame.type, now: now)
        return true
    }

    /// ironwood's monitor.sent: any send makes a pending keepalive unnecessary; one that is not
    /// a keepalive (or dummy) expects an answer, so it arms the read deadline if none is armed.
    private mutating func sent(_ type: IronwoodFrame.FrameType, now: Instant) {
        framesOut &+= 1
        keepAliveDue = .never
        switch type {
        case .keepAlive, .dummy: break
        default:
            if readDeadline == .never { readDeadline = now.adding(seconds: Self.peerTimeout) }
        }
    }

    /// Runs the timers due at `now`: the handshake deadline, the read deadline (both close the
    /// link), the keepalive we owe (queued for writing).
    public mutating func handleDeadline(now: Instant) -> [Event] {
        switch state {
        case .closed: return []
        case .handshaking:
            return now >= handshakeDeadline ? [close(.handshakeTimeout)] : []
        case .established:
            if now >= readDeadline { return [close(.readTimeout)] }
            if now >= keepAliveDue {
                output.append(contentsOf: [0x01, IronwoodFrame.FrameType.keepAlive.rawValue])
                sent(.keepAlive, now: now)
            }
            return []
        }
    }

    /// The transport lost the stream (EOF, reset, TLS error) or the owner ends it. Returns the
    /// `.closed` event, or nothing when the link had already closed.
    public mutating func close(because reason: YggdrasilLinkClose) -> [Event] {
        isClosed ? [] : [close(reason)]
    }

    private mutating func close(_ reason: YggdrasilLinkClose) -> Event {
        state = .closed(reason)
        readDeadline = .never
        keepAliveDue = .never
        handshakeBuffer = []
        return .closed(reason)
    }
}
