import PlanetCore
import PlanetYggdrasil
import PlanetRuntime
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// planetyggpeer: the runtime's YggdrasilTransport and YggdrasilLink on their own, for the
// integration tests that put them against a real yggdrasil 0.5.12 (test_yggdrasil05_link.sh)
// before the daemon uses them. Never installed, not a product.
//
//   planetyggpeer --key HEX [--listen URI]... [--peer URI]... [--allow KEY]...
//
// Listens and dials as told (tcp:// or tls:// URIs with yggdrasil's ?key=, ?password=,
// ?priority=), and answers every SigReq with a SigRes signed for the link (ironwood's
// router._handleRequest: the port is the number this side gives the peer), which is all a
// real node needs to keep the link up; everything else it receives is dropped. One line per
// event on stdout, flushed:
//   listening URI PORT
//   up ID KEY PRIORITY
//   sigres ID SEQ
//   down ID CODE REASON
//   closed CODE COUNT          (every change of a close counter, refusals included)
// Runs until SIGTERM or SIGINT. Exit 2 on bad arguments, 1 when a listener cannot start.

func die(_ code: Int32, _ message: String) -> Never {
    FileHandleOut.write("planetyggpeer: \(message)\n", to: 2)
    exit(code)
}

/// Unbuffered writes to fd 1 or 2: the test reads the lines as they happen.
enum FileHandleOut {
    static func write(_ s: String, to fd: Int32) {
        let bytes = Array(s.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            done += n
        }
    }
}

func say(_ s: String) { FileHandleOut.write(s + "\n", to: 1) }

var args = Array(CommandLine.arguments.dropFirst())
var keyHex: String?
var listens: [PeerURI] = []
var peers: [PeerURI] = []
var allowed: Set<PublicKey> = []
while !args.isEmpty {
    let flag = args.removeFirst()
    guard !args.isEmpty else { die(2, "\(flag) needs a value") }
    let value = args.removeFirst()
    switch flag {
    case "--key": keyHex = value
    case "--listen", "--peer":
        switch PeerURI.parse(value, allowKey: flag == "--peer") {
        case .success(let u) where u.scheme.isYggdrasil: flag == "--peer" ? peers.append(u) : listens.append(u)
        case .success: die(2, "\(flag) \(value): not a tcp:// or tls:// URI")
        case .failure(let e): die(2, "\(flag): \(e)")
        }
    case "--allow":
        guard let bytes = Hex.decode(value), let k = PublicKey(bytes) else { die(2, "--allow \(value): not a key") }
        allowed.insert(k)
    default: die(2, "unknown option \(flag)")
    }
}
guard let keyHex, let identity = try? NodeIdentity(hex: keyHex) else { die(2, "--key HEX (128 hex characters) is required") }

signal(SIGPIPE, SIG_IGN)
Signals.blockTermination()
let driver: Driver
do { driver = try Driver(identity: identity, allowed: allowed) } catch { die(1, "\(error)") }
driver.start(listens: listens, peers: peers)
driver.run()

/// The loop, the transport and the SigReq responder; everything runs on the calling thread
/// except the signal waiter, which only posts (hence @unchecked Sendable).
final class Driver: @unchecked Sendable {
    let identity: NodeIdentity
    let loop: EventLoop
    let transport: YggdrasilTransport
    /// ironwood numbers its peers from 1, one port per key.
    var ports: [PublicKey: UInt64] = [:]
    var keys: [YggdrasilConnectionID: PublicKey] = [:]
    var reported: [String: UInt64] = [:]
    var running = true

    init(identity: NodeIdentity, allowed: Set<PublicKey>) throws {
        self.identity = identity
        loop = try EventLoop()
        transport = YggdrasilTransport(loop: loop, identity: identity, allowedKeys: allowed,
                                       logger: Logger(level: .info) { _, m, f in
                                           FileHandleOut.write("log \(m) \(f.map { "\($0.0)=\($0.1)" }.joined(separator: " "))\n", to: 2)
                                       })
        transport.onEvent = { [unowned self] in handle($0) }
        loop.onDeadline { [unowned self] now in transport.handleDeadline(now: now) }
    }

    func start(listens: [PeerURI], peers: [PeerURI]) {
        for uri in listens {
            do {
                let port = try transport.listen(uri)
                say("listening \(uri.redactedDescription) \(port)")
            } catch {
                die(1, "\(error)")
            }
        }
        for uri in peers { transport.addPeer(uri) }
    }

    func handle(_ event: YggdrasilTransport.Event) {
        switch event {
        case .established(let id, let key, let priority):
            keys[id] = key
            if ports[key] == nil { ports[key] = UInt64(ports.count + 1) }
            say("up \(id) \(key.hex) \(priority)")
        case .frame(let id, let frame):
            guard frame.type == .sigReq, let key = keys[id], let port = ports[key] else { return }
            guard let req = try? IronwoodSigReq(body: frame.body) else {
                transport.close(id, reason: .local("malformed SigReq"))
                return
            }
            let res = IronwoodSigRes(answering: req, node: key, port: port, parent: identity)
            transport.send(id, IronwoodFrame(type: .sigRes, body: res.encoded))
            say("sigres \(id) \(req.seq)")
        case .closed(let id, let reason):
            keys[id] = nil
            say("down \(id) \(reason.code.rawValue) \(reason)")
        }
    }

    /// Turns the loop until SIGTERM/SIGINT; after every turn: the flush, the counters, the deadline.
    func run() {
        let waiter = Thread { [self] in
            _ = Signals.waitForTermination()
            loop.post { [self] in running = false }
        }
        waiter.start()
        while running {
            transport.flush()
            for (name, count) in transport.closeCounters.report() where reported[name] != count {
                reported[name] = count
                say("closed \(name) \(count)")
            }
            loop.setDeadline(transport.nextDeadline)
            loop.runOnce(timeoutMilliseconds: -1)
        }
        transport.stop()
    }
}
