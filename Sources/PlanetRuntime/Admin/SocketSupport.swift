import PlanetCore
import PlanetAdmin
#if canImport(Glibc)
import Glibc
#endif

/// Small wrappers over the socket calls the admin and metrics servers share.
enum SocketSupport {
    static func errnoText(_ code: Int32 = errno) -> String { UnixSocket.errnoText(code) }

    /// Idle timeouts and accept back-off read the process's one monotonic clock.
    static func monotonicSeconds() -> Double { MonotonicClock.now().seconds }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    static func setCloseOnExec(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    // The Unix socket address and calls: PlanetAdmin's, shared with the client.
    static func unixAddress(_ path: String) -> sockaddr_un? { UnixSocket.address(path) }
    static func unixStreamSocket() -> Int32 { UnixSocket.stream() }
    static func connect(_ fd: Int32, unix addr: sockaddr_un) -> Int32 { UnixSocket.connect(fd, addr) }
    static func bind(_ fd: Int32, unix addr: sockaddr_un) -> Int32 { UnixSocket.bind(fd, addr) }

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
