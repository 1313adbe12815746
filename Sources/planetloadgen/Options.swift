#if canImport(Glibc)
import Glibc
#endif
import PlanetCore

/// planetloadgen's command line. Every bad argument is one line on stderr naming it, exit 2,
/// as the other tools do (Tools/lib/common.sh's scripts pass the status on).
struct Options {
    var peer: PeerURI
    var nodes: Int
    var pings: Int
    var json = false
    /// Seconds of idle traffic measured after linking (`controlBytesPerSecond`).
    var idle = 30.0
    /// Nodes started per second; 0 starts them all at once. The default is the hub's global
    /// handshake budget (`LinkConstants.initsGlobalPerSecond`): faster only queues inits the
    /// hub answers with cookies or drops, and their retries.
    var rate = 400.0
    /// Give up linking after this long (the nodes not linked by then are reported, not waited for).
    var linkTimeout = 120.0
    /// A ping with no reply after this long is lost.
    var pingTimeout = 10.0
    /// Seconds between two pings' starts.
    var pingInterval = 0.02
    /// The hub's process, to read its memory and CPU from /proc over the idle window.
    var targetPID: Int32?

    static let usage = """
    usage: planetloadgen --peer URI --nodes N --pings K [--json] [--idle SECONDS] [--rate NODES_PER_SECOND]
                         [--link-timeout SECONDS] [--ping-timeout SECONDS] [--target-pid PID]
    """

    static func parse(_ arguments: [String]) -> Options {
        var peer: PeerURI?, nodes: Int?, pings: Int?
        var o = Options(peer: PeerURI(host: "127.0.0.1", port: 0), nodes: 0, pings: 0)
        var i = 0
        func value(_ name: String) -> String {
            guard i + 1 < arguments.count else { fail(name, "needs a value") }
            i += 1
            return arguments[i]
        }
        func number(_ name: String, min: Double = 0) -> Double {
            let text = value(name)
            guard let v = Double(text), v.isFinite, v >= min else { fail(name, "must be a number ≥ \(min), got '\(text)'") }
            return v
        }
        func count(_ name: String, min: Int) -> Int {
            let text = value(name)
            guard let v = Int(text), v >= min else { fail(name, "must be a whole number ≥ \(min), got '\(text)'") }
            return v
        }
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "--peer":
                let text = value(a)
                switch PeerURI.parse(text) {
                case .success(let uri) where uri.scheme == .udp: peer = uri
                case .success: fail(a, "must be a udp:// URI, got '\(text)'")
                case .failure(let e): fail(a, "\(e) ('\(text)')")
                }
            case "--nodes": nodes = count(a, min: 1)
            case "--pings": pings = count(a, min: 0)
            case "--json": o.json = true
            case "--idle": o.idle = number(a)
            case "--rate": o.rate = number(a)
            case "--link-timeout": o.linkTimeout = number(a, min: 1)
            case "--ping-timeout": o.pingTimeout = number(a, min: 0.1)
            case "--target-pid": o.targetPID = Int32(count(a, min: 1))
            case "-h", "--help":
                print(usage)
                exit(0)
            default: fail(a, "unknown argument")
            }
            i += 1
        }
        guard let peer else { fail("--peer", "is required") }
        guard let nodes else { fail("--nodes", "is required") }
        guard let pings else { fail("--pings", "is required") }
        if pings > 0 && nodes < 2 { fail("--pings", "needs --nodes 2 or more") }
        o.peer = peer
        o.nodes = nodes
        o.pings = pings
        return o
    }

    static func fail(_ argument: String, _ why: String) -> Never {
        FileHandleOut.stderr("planetloadgen: \(argument) \(why)")
        exit(2)
    }
}

enum FileHandleOut {
    static func stderr(_ line: String) {
        var text = line + "\n"
        _ = text.withUTF8 { write(2, $0.baseAddress, $0.count) }
    }
}
