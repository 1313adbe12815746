import PlanetCore
#if canImport(Glibc)
import Glibc
#endif

/// The listening TCP socket of an HTTP server configured by a `HOST:PORT` key (`metricsListen`,
/// `webListen`): both servers open it the same way, and name their key when it fails.
enum TCPListener {
    /// A bound, listening socket (close-on-exec) for `address`: `[::1]:8472`, `127.0.0.1:0`.
    static func open(_ address: String, key: String, purpose: String) throws(StartupError) -> Int32 {
        let uri: PeerURI
        switch PeerURI.parse("udp://" + address, allowKey: false) {
        case .success(let u): uri = u
        case .failure: throw StartupError("\(key) '\(address)' is not HOST:PORT (IPv6 in brackets)")
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(uri.host, String(uri.port), &hints, &res)
        guard gai == 0, let ai = res else { throw StartupError("\(key) '\(address)': cannot resolve \(uri.host): \(String(cString: gai_strerror(gai)))") }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartupError("cannot create the \(purpose) socket: \(SocketSupport.errnoText())") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let e = SocketSupport.errnoText()
            close(fd)
            throw StartupError("cannot listen for \(purpose) on \(address) (\(key)): \(e)")
        }
        return fd
    }

    /// The port `fd` is bound to (useful with port 0), or 0.
    static func boundPort(_ fd: Int32) -> UInt16 {
        guard fd >= 0 else { return 0 }
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard r == 0 else { return 0 }
        return withUnsafePointer(to: &ss) { p in
            if p.pointee.ss_family == sa_family_t(AF_INET6) {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// True when `fd` is bound to a loopback address (127/8, ::1, or v4-mapped 127/8).
    static func isLoopback(_ fd: Int32) -> Bool {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard r == 0 else { return false }
        return withUnsafePointer(to: &ss) { p in
            if p.pointee.ss_family == sa_family_t(AF_INET) {
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) >> 24 == 127 }
            }
            return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                let b = withUnsafeBytes(of: sin6.pointee.sin6_addr) { Array($0) }
                let loopback6 = b[0..<15].allSatisfy { $0 == 0 } && b[15] == 1
                let mapped127 = b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff && b[12] == 127
                return loopback6 || mapped127
            }
        }
    }
}
