/// The run a coalescer is building: consecutive packets of one flow whose payloads are merged
/// behind the first packet's headers into one super-packet. `TCPCoalescer` and `UDPCoalescer`
/// decide what may join and fix up the merged headers; the mechanics are here. The first packet
/// stays where it lies until a second one joins, so a packet that merges with nothing is never
/// copied; from then on each payload is copied once, into `buffer`.
struct CoalescerRun {
    /// Largest merged packet, headers included.
    let capacity: Int
    let buffer: UnsafeMutableRawPointer
    /// The run's first packet, while a run is open.
    private(set) var first: UnsafeRawBufferPointer?
    /// The first packet arrived checksum-partial (its checksum field holds only the pseudo-header sum).
    private(set) var firstPartial = false
    /// Copied into `buffer` (a second packet joined).
    private(set) var inBuffer = false
    private(set) var length = 0
    private(set) var headers = 0
    /// The payload size every packet of the run has, but a shorter last one.
    private(set) var segmentSize = 0
    private(set) var segments = 0
    /// Nothing more may join (a short or flagged last packet).
    private(set) var closed = false
    /// Packets that went out merged / super-packets written (for tests and metrics).
    private(set) var merged = 0
    private(set) var superPackets = 0

    init(capacity: Int) {
        self.capacity = capacity
        buffer = .allocate(byteCount: capacity + 64, alignment: 16)
    }

    /// Frees `buffer`; the owning coalescer calls it from its deinit.
    func deallocate() { buffer.deallocate() }

    /// A run is open and may still grow.
    var accepts: Bool { first != nil && !closed }

    /// Whether `p`'s payload (after the run's headers) may follow: no longer than the run's
    /// segments, and the merged packet within `capacity`.
    func fits(_ p: UnsafeRawBufferPointer) -> Bool {
        p.count > headers && p.count - headers <= segmentSize && length + p.count - headers <= capacity
    }

    /// Opens a run with `p` (which must stay valid until `finish`), `headers` bytes of it headers.
    mutating func start(_ p: UnsafeRawBufferPointer, headers: Int, checksumPartial: Bool, closed: Bool = false) {
        first = p
        firstPartial = checksumPartial
        inBuffer = false
        length = p.count
        self.headers = headers
        segmentSize = p.count - headers
        segments = 1
        self.closed = closed
    }

    /// Appends `p`'s payload; a payload shorter than the run's segments ends the run. Returns the
    /// payload's length.
    @discardableResult
    mutating func append(_ p: UnsafeRawBufferPointer) -> Int {
        if !inBuffer, let f = first {
            buffer.copyMemory(from: f.baseAddress!, byteCount: f.count)
            inBuffer = true
        }
        let payload = p.count - headers
        (buffer + length).copyMemory(from: p.baseAddress! + headers, byteCount: payload)
        length += payload
        segments += 1
        if payload < segmentSize { closed = true }
        return payload
    }

    mutating func close() { closed = true }

    /// Ends the run. A lone packet is written where it lies, marked checksum-partial if it
    /// arrived so. A merged one is written from `buffer` after `fixHeaders` has set its lengths
    /// and checksum field (for `length` bytes), as a super-packet of `gsoType` whose transport
    /// checksum sits `checksumOffset` bytes into the transport header (after the 40-byte IPv6 one).
    mutating func finish(write: (UnsafeRawBufferPointer, VirtioNetHeader) -> Void, gsoType: UInt8, checksumOffset: UInt16,
                         fixHeaders: (UnsafeMutableRawPointer, Int) -> Void) {
        guard let f = first else { return }
        first = nil
        guard inBuffer else {
            write(f, firstPartial ? TCPCoalescer.partialHeader(f) : VirtioNetHeader())
            return
        }
        fixHeaders(buffer, length)
        merged += segments
        superPackets += 1
        write(UnsafeRawBufferPointer(start: buffer, count: length),
              VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: gsoType, hdrLen: UInt16(headers),
                              gsoSize: UInt16(segmentSize), csumStart: UInt16(TCPCoalescer.ip), csumOffset: checksumOffset))
    }
}
