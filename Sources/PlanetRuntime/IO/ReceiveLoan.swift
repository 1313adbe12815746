/// The borrow-until-flush rule of the in-place data path, as types. `Node.receiveDatagram(inPlace:)`
/// decrypts in the receive slot and may leave what it produced there: a datagram relayed for
/// others is sealed again where it lies and sent from the slot, and a packet for us is written
/// to the TUN from the slot (`NodeOutput.TunPacket`, borrowed). So the runner must send and
/// write everything of one receive before the batch is filled again.
///
/// A `ReceiveLoan` is the proof that a batch's slots are out on loan. `DatagramBatch.lend()`
/// makes one per fill; writable views of the slots are only to be had under it
/// (`forEachMutableDatagram(in:under:)`), datagrams queued straight from a slot only through it
/// (`borrow`), and only repaying it — which consumes it, so it cannot be repaid twice or used
/// after — lets the batch be filled again: `refill` checks, and so does every `SendBatch`
/// holding a borrowed datagram when it is sent. The checks are debug assertions; in release
/// what is left is a counter store per fill and per borrowed datagram.
public struct ReceiveLoan: ~Copyable {
    /// Unowned and unretained: a loan lives within one read of the batch's owner, which holds
    /// the batch for its whole life.
    unowned(unsafe) let batch: DatagramBatch
    let generation: UInt64

    init(batch: DatagramBatch, generation: UInt64) {
        self.batch = batch
        self.generation = generation
    }

    /// The first bytes of a slot, to queue for sending where they lie (`SendBatch.append(_:to:)`).
    public func borrow(_ bytes: UnsafeRawBufferPointer) -> BorrowedDatagram {
        assert(batch.owns(bytes), "a borrowed datagram must lie in the lent batch")
        return BorrowedDatagram(bytes: bytes, lender: batch, generation: generation)
    }

    /// Everything borrowed has been sent and written: the batch may be filled again.
    public consuming func repay() {
        batch.repay(generation)
    }
}

/// A datagram that stays in its receive slot until sent. Made only by `ReceiveLoan.borrow`, so
/// it records which fill of which batch it points into; a `SendBatch` checks that fill is still
/// the current one when it sends.
public struct BorrowedDatagram {
    public let bytes: UnsafeRawBufferPointer
    unowned(unsafe) let lender: DatagramBatch
    let generation: UInt64

    /// Whether the slot still holds what was borrowed (the batch has not been filled since).
    public var isCurrent: Bool { lender.generation == generation }
}
