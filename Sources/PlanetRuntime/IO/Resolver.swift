#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import PlanetCore

/// Turns a PeerURI host into underlay endpoints. getaddrinfo blocks (DNS), so it runs on a
/// background queue and the answer is handed back on the event loop thread via `post`.
/// Endpoints come back with socket index 0; the caller picks the socket.
public final class Resolver: @unchecked Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case lookup(String)
        case noAddresses
        public var description: String {
            switch self {
            case .lookup(let why): return why
            case .noAddresses: return "no IPv4 or IPv6 addresses"
            }
        }
    }

    private let loop: EventLoop
    private let queue = DispatchQueue(label: "planet.resolver", attributes: .concurrent)

    public init(loop: EventLoop) { self.loop = loop }

    /// `completion` runs on the loop thread, so it may touch loop-owned state.
    public func resolve(_ uri: PeerURI, completion: @escaping (Result<[Endpoint], Failure>) -> Void) {
        let host = uri.host, port = uri.port
        // The closure only ever runs on the loop thread (via post), never concurrently.
        let box = LoopBound(completion)
        queue.async { [loop] in
            let result = Resolver.lookup(host: host, port: port)
            loop.post { box.value(result) }
        }
    }

    /// The blocking lookup itself, for callers already off the loop. IPv4 answers become
    /// v4-mapped; duplicates (one per socket type) are removed, order kept.
    public static func lookup(host: String, port: UInt16) -> Result<[Endpoint], Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else { return .failure(.lookup("\(host): \(String(cString: gai_strerror(rc)))")) }
        defer { freeaddrinfo(list) }
        var out: [Endpoint] = []
        var p = list
        while let cur = p {
            defer { p = cur.pointee.ai_next }
            guard let sa = cur.pointee.ai_addr else { continue }
            var e: Endpoint?
            if cur.pointee.ai_family == AF_INET6 {
                e = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s6 in
                    withUnsafeBytes(of: s6.pointee.sin6_addr) { IPv6Address($0).map { Endpoint(address: $0, port: port) } }
                }
            } else if cur.pointee.ai_family == AF_INET {
                e = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s4 in
                    withUnsafeBytes(of: s4.pointee.sin_addr) { Endpoint(ipv4: $0[0], $0[1], $0[2], $0[3], port: port) }
                }
            }
            if let e, !out.contains(e) { out.append(e) }
        }
        return out.isEmpty ? .failure(.noAddresses) : .success(out)
    }
}
