/// The borrow-until-flush rule of the in-place data path, as a type. `Node.receiveDatagram(inPlace:)`
/// decrypts in the receive slot and may leave what it produced there: a datagram relayed for
/// others is sealed again where it lies and queued from the slot (`TransmitQueue`, borrowed),
/// and a packet for us is written to the TUN from the slot (`NodeOutput.TunPacket`, borrowed).
/// So the runner must send and write everything of one receive before the batch is filled again.
///
/// A `ReceiveLoan` is the proof that a batch's slots are out on loan. `DatagramBatch.lend()`
/// makes one per fill; writable views of the slots are only to be had under it
/// (`forEachMutableDatagram(in:under:)`), and only repaying it — which consumes it, so it
/// cannot be repaid twice or used after — lets the batch be filled again: `refill` checks (a
/// debug assertion), and the runner checks before each receive that nothing queued still
/// borrows (`TransmitQueue.hasBorrowed`, in every build: one comparison).
public struct ReceiveLoan: ~Copyable {
    /// Unowned and unretained: a loan lives within one read of the batch's owner, which holds
    /// the batch for its whole life.
    unowned(unsafe) let batch: DatagramBatch
    let generation: UInt64

    init(batch: DatagramBatch, generation: UInt64) {
        self.batch = batch
        self.generation = generation
    }

    /// Everything borrowed has been sent and written: the batch may be filled again.
    public consuming func repay() {
        batch.repay(generation)
    }
}
