import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A listening socket and the loop that serves it, as the admin and metrics servers hold
/// them: started together, and stopped loop first, so no client is cut off mid-reply by a
/// closed listener.
struct ServedListener {
    private(set) var fd: Int32 = -1
    private var loop: StreamServerLoop?

    var isServing: Bool { loop != nil }

    mutating func start(fd: Int32, loop: StreamServerLoop) {
        self.fd = fd
        self.loop = loop
        loop.start()
    }

    /// Stops the loop and closes the socket; false when it was not serving. Safe to call twice.
    @discardableResult
    mutating func stop() -> Bool {
        guard let loop else { return false }
        loop.stop()
        self.loop = nil
        close(fd)
        fd = -1
        return true
    }
}

/// A poll() loop on its own thread serving a listening stream socket: accepts clients up to
/// a limit, reads without blocking, writes what the protocol queued, and closes clients
/// that go idle. The admin and metrics servers share it so neither depends on the node's
/// event loop, and a slow or silent client can only ever cost itself.
final class StreamServerLoop: @unchecked Sendable {
    struct Limits: Sendable {
        var maxClients: Int
        /// Seconds without a byte in either direction before a client is closed.
        var idleTimeout: Double
        /// Bytes read per readiness event, so one busy client cannot starve the others.
        var readChunk = 65536
    }

    private let listener: Int32
    private let limits: Limits
    private let threadName: String
    /// Sent (best effort) to a client arriving when `maxClients` are connected.
    private let refusal: [UInt8]
    /// Called on the loop thread after new input arrives or a reply finished going out.
    private let onInput: (StreamConnection) -> Void
    private var clients: [StreamConnection] = []
    /// Out of file descriptors, the listener stays readable and accept() keeps failing, so
    /// it is left out of poll() for a moment instead of spinning.
    private var acceptPausedUntil = 0.0
    private let wake: (read: Int32, write: Int32)
    private let lock = NSLock()
    private var stopping = false
    private var started = false
    private let finished = DispatchSemaphore(value: 0)

    init?(listener: Int32, limits: Limits, threadName: String, refusal: String, onInput: @escaping (StreamConnection) -> Void) {
        guard let wake = SocketSupport.wakePipe() else { return nil }
        self.listener = listener
        self.limits = limits
        self.threadName = threadName
        self.refusal = Array(refusal.utf8)
        self.onInput = onInput
        self.wake = wake
        SocketSupport.setNonBlocking(listener)
    }

    func start() {
        lock.lock()
        started = true
        lock.unlock()
        let thread = Thread { [self] in run() }
        thread.name = threadName
        thread.start()
    }

    /// Stops the loop and waits for its thread to close every client. The listener itself
    /// belongs to the caller. Safe to call twice.
    func stop() {
        lock.lock()
        let wasRunning = started && !stopping
        let firstStop = !stopping
        stopping = true
        lock.unlock()
        if wasRunning {
            var b: UInt8 = 1
            _ = write(wake.write, &b, 1)
            finished.wait()
        }
        // Only once: a second close could hit a descriptor number reused since.
        if firstStop {
            close(wake.read)
            close(wake.write)
        }
    }

    deinit { stop() }

    private var shouldStop: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    private func run() {
        var fds: [pollfd] = []
        while !shouldStop {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0))
            let now = SocketSupport.monotonicSeconds()
            fds.append(pollfd(fd: listener, events: now < acceptPausedUntil ? 0 : Int16(POLLIN), revents: 0))
            for c in clients {
                var events: Int16 = 0
                if c.wantsInput { events |= Int16(POLLIN) }
                if c.hasPendingOutput { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: c.fd, events: events, revents: 0))
            }
            var timeoutMs: Int32 = 1000
            for c in clients {
                let left = c.lastActivity + limits.idleTimeout - now
                timeoutMs = min(timeoutMs, max(0, Int32((left * 1000).rounded(.up))))
            }
            let n = poll(&fds, nfds_t(fds.count), timeoutMs)
            if n < 0 && errno != EINTR { break }
            if fds[0].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(wake.read, &sink, sink.count) > 0 {}
            }
            if shouldStop { break }
            let polledClients = clients
            for (i, c) in polledClients.enumerated() {
                let revents = fds[i + 2].revents
                if revents == 0 { continue }
                let hangup = revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
                if revents & Int16(POLLIN) != 0 || hangup, c.wantsInput { readFrom(c) }
                if revents & Int16(POLLOUT) != 0 || hangup, c.hasPendingOutput { flushAndContinue(c) }
                // A hangup is reported whether asked for or not; a client left with nothing to
                // read or write must go now, or poll() would report it again at once, forever.
                if hangup && !c.wantsInput && !c.hasPendingOutput { c.peerClosed = true }
            }
            if fds[1].revents & Int16(POLLIN) != 0 { acceptClients() }
            sweep(now: SocketSupport.monotonicSeconds())
        }
        for c in clients { close(c.fd) }
        clients.removeAll()
        finished.signal()
    }

    private func acceptClients() {
        // A bounded number per wakeup keeps a connection flood from starving existing clients.
        for _ in 0..<16 {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    acceptPausedUntil = SocketSupport.monotonicSeconds() + 1
                }
                return
            }
            SocketSupport.setNonBlocking(fd)
            SocketSupport.setCloseOnExec(fd)
            if clients.count >= limits.maxClients {
                _ = refusal.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
                close(fd)
                continue
            }
            clients.append(StreamConnection(fd: fd, now: SocketSupport.monotonicSeconds()))
        }
    }

    private func readFrom(_ c: StreamConnection) {
        let start = c.input.count
        c.input.append(contentsOf: repeatElement(0, count: limits.readChunk))
        let got = c.input.withUnsafeMutableBytes { raw in
            recv(c.fd, raw.baseAddress! + start, limits.readChunk, 0)
        }
        c.input.removeSubrange((start + max(got, 0))...)
        if got > 0 {
            c.lastActivity = SocketSupport.monotonicSeconds()
            process(c)
        } else if got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            c.peerClosed = true
            if got < 0 { c.output.removeAll(); c.outputSent = 0 }
        }
    }

    /// Lets the protocol answer what has arrived, one reply at a time: the next request is
    /// looked at only once the previous reply is fully out (iteratively, since a client may
    /// pipeline thousands of small requests).
    private func process(_ c: StreamConnection) {
        while true {
            let before = c.input.count
            onInput(c)
            _ = flush(c)
            if c.hasPendingOutput || c.closeWhenFlushed || c.input.isEmpty || c.input.count == before { return }
        }
    }

    /// Sends what is queued; true when everything went out.
    @discardableResult
    private func flush(_ c: StreamConnection) -> Bool {
        while c.hasPendingOutput {
            let sent = c.output.withUnsafeBytes { raw in
                send(c.fd, raw.baseAddress! + c.outputSent, c.output.count - c.outputSent, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent > 0 {
                c.outputSent += sent
                c.lastActivity = SocketSupport.monotonicSeconds()
                continue
            }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return false }
            // The client is gone: nothing more can be delivered.
            c.output.removeAll()
            c.outputSent = 0
            c.peerClosed = true
            c.closeWhenFlushed = true
            return false
        }
        c.output.removeAll(keepingCapacity: false)
        c.outputSent = 0
        return true
    }

    /// After a reply finished going out on POLLOUT, requests that queued behind it are served.
    private func flushAndContinue(_ c: StreamConnection) {
        let hadOutput = c.hasPendingOutput
        if flush(c), hadOutput, !c.input.isEmpty, !c.closeWhenFlushed { process(c) }
    }

    private func sweep(now: Double) {
        clients.removeAll { c in
            let done = !c.hasPendingOutput && (c.closeWhenFlushed || c.peerClosed)
            let idle = now - c.lastActivity >= limits.idleTimeout
            if done || idle { close(c.fd) }
            return done || idle
        }
    }
}
