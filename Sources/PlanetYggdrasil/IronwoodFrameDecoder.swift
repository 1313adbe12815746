/// Cuts the byte stream of an Yggdrasil 0.5 link (after the meta handshake) into
/// `IronwoodFrame`s: feed it bytes as TCP delivers them, in any split, and take frames out.
///
/// Any error is final: ironwood closes the link on the first bad frame (there is no way to
/// resynchronise a length-prefixed stream), so after one the decoder keeps returning it.
/// A length over the limit is refused as soon as its uvarint is complete, so a peer cannot make
/// the decoder wait for (and buffer) more than one maximal frame beyond what a read delivered.
public struct IronwoodFrameDecoder {
    public enum FrameError: Error, Equatable, CustomStringConvertible {
        /// The length prefix is not a valid uvarint (over ten bytes or over 64 bits).
        case badLength
        /// A length above the limit (ironwood's ErrOversizedMessage).
        case oversize(UInt64)
        /// Length zero: no type byte (ironwood's ErrEmptyMessage).
        case empty
        /// A type byte ironwood does not know (ErrUnrecognizedMessage).
        case unknownType(UInt8)

        public var description: String {
            switch self {
            case .badLength: return "frame length is not a valid uvarint"
            case .oversize(let n): return "frame of \(n) bytes exceeds the \(IronwoodFrame.maxLength)-byte limit"
            case .empty: return "empty frame (no type byte)"
            case .unknownType(let t): return "unknown frame type \(t)"
            }
        }
    }

    public let maxLength: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already returned as frames; compacted lazily so a burst of small
    /// frames costs one copy, not one per frame.
    private var consumed = 0
    private var failure: FrameError?

    public init(maxLength: Int = IronwoodFrame.maxLength) {
        self.maxLength = maxLength
    }

    /// Bytes received but not yet returned as a frame.
    public var pendingBytes: Int { buffer.count - consumed }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if consumed > 0 && consumed >= buffer.count / 2 {
            buffer.removeFirst(consumed)
            consumed = 0
        }
        // Arrays and slices are appended as one copy; a generic sequence from another module
        // would go byte by byte through its protocol.
        if bytes.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
            buffer.append(contentsOf: bytes)
        }
    }

    /// The next whole frame, nil when more bytes are needed, or the error that ends the link.
    /// The length is judged as soon as its uvarint is complete, before the body arrives.
    public mutating func next() throws(FrameError) -> IronwoodFrame? {
        if let failure { throw failure }
        do throws(FrameError) {
            return try decodeOne()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func decodeOne() throws(FrameError) -> IronwoodFrame? {
        let available = buffer[consumed...]
        let (length, prefix): (UInt64, Int)
        switch Uvarint.decode(available.prefix(Uvarint.maxBytes)) {
        case .incomplete: return nil
        case .overflow: throw .badLength
        case .value(let v, let n): (length, prefix) = (v, n)
        }
        guard length <= UInt64(maxLength) else { throw .oversize(length) }
        guard length > 0 else { throw .empty }
        let start = consumed + prefix
        // The type is checked as soon as it arrives, so garbage fails without waiting for a body.
        guard start < buffer.count else { return nil }
        guard let type = IronwoodFrame.FrameType(rawValue: buffer[start]) else { throw .unknownType(buffer[start]) }
        let end = start + Int(length)
        guard end <= buffer.count else { return nil }
        consumed = end
        return IronwoodFrame(type: type, body: Array(buffer[(start + 1)..<end]))
    }
}
