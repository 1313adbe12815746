#if canImport(Glibc)
import Glibc
#endif

/// Small wrappers over the socket calls the admin and metrics servers share.
enum SocketSupport {
    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Idle timeouts and accept back-off read the process's one monotonic clock.
    static func monotonicSeconds() -> Double { MonotonicClock.now().seconds }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    static func setCloseOnExec(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// A `sockaddr_un` for `path`, or nil when the path does not fit (107 bytes).
    static func unixAddress(_ path: String) -> sockaddr_un? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }

    static func unixStreamSocket() -> Int32 {
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    static func connect(_ fd: Int32, unix addr: sockaddr_un) -> Int32 {
        var a = addr
        return withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    static func bind(_ fd: Int32, unix addr: sockaddr_un) -> Int32 {
        var a = addr
        return withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// A self-pipe: the stopping thread writes a byte so the server's poll() wakes up.
    static func wakePipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            setNonBlocking(fd)
            setCloseOnExec(fd)
        }
        return (fds[0], fds[1])
    }
}
