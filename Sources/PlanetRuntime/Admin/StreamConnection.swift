/// One client of a `StreamServerLoop`: what it sent that is not consumed yet, and what is
/// waiting to go out. The protocol callback consumes `input`, appends to `output`, and sets
/// `closeWhenFlushed` to end the conversation once the reply is out.
final class StreamConnection {
    let fd: Int32
    var input: [UInt8] = []
    var output: [UInt8] = []
    var outputSent = 0
    var closeWhenFlushed = false
    /// The client shut down its sending side; whatever is queued still goes out.
    var peerClosed = false
    var lastActivity: Double

    init(fd: Int32, now: Double) {
        self.fd = fd
        self.lastActivity = now
    }

    var hasPendingOutput: Bool { outputSent < output.count }

    /// Reading stops while a reply is unsent, so a client that writes without reading can
    /// only ever hold one reply's worth of our memory.
    var wantsInput: Bool { !hasPendingOutput && !closeWhenFlushed && !peerClosed }

    func send(_ text: String) { output.append(contentsOf: text.utf8) }

    /// Bytes as they are; when nothing else is queued they become the output without a copy.
    func send(_ bytes: [UInt8]) {
        if output.isEmpty { output = bytes } else { output.append(contentsOf: bytes) }
    }
}
