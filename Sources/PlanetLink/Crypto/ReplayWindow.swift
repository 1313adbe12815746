/// Sliding anti-replay window over message counters (RFC 6479's ring of bitmap words).
/// Accepts any counter not seen before that is within `LinkConstants.replayWindowBits - 64`
/// of the highest one accepted, so reordered packets still get through and duplicates don't.
/// Checking is split from recording so a forged packet (AEAD failure) never moves the window.
public struct ReplayWindow: Sendable {
    static let wordCount = LinkConstants.replayWindowBits / 64
    /// Usable width: one ring word is always being recycled as the window slides.
    public static let width = UInt64(LinkConstants.replayWindowBits - 64)

    private var ring: [UInt64]
    /// Highest counter recorded so far (meaningless while `empty`).
    public private(set) var highest: UInt64 = 0
    private var empty = true

    public init() { ring = [UInt64](repeating: 0, count: ReplayWindow.wordCount) }

    /// Whether `counter` may be fresh: not too old and not already recorded.
    @inline(__always)
    public func mayAccept(_ counter: UInt64) -> Bool {
        guard counter < LinkConstants.rejectAfterMessages else { return false }
        if empty || counter > highest { return true }
        if highest - counter >= ReplayWindow.width { return false }
        let word = Int((counter >> 6) & UInt64(ReplayWindow.wordCount - 1))
        return ring[word] & (1 << (counter & 63)) == 0
    }

    /// Records an authenticated counter; returns false if it was a duplicate or too old.
    @discardableResult
    public mutating func record(_ counter: UInt64) -> Bool {
        guard mayAccept(counter) else { return false }
        let mask = UInt64(ReplayWindow.wordCount - 1)
        if empty || counter > highest {
            // Clear the words the window slides over (all of them if it jumps far ahead).
            let newWord = counter >> 6
            let oldWord = empty ? newWord &- UInt64(ReplayWindow.wordCount) : highest >> 6
            let steps = min(newWord &- oldWord, UInt64(ReplayWindow.wordCount))
            var w = newWord
            for _ in 0..<steps {
                ring[Int(w & mask)] = 0
                w &-= 1
            }
            highest = counter
            empty = false
        }
        ring[Int((counter >> 6) & mask)] |= 1 << (counter & 63)
        return true
    }
}
