#if canImport(Glibc)
import Glibc
#endif

/// stdout and stderr for planetd and planetctl, written so that a closed reader can never
/// kill the process: `planetd run … 2>&1 | head -1` or `planetctl peers | head -1` must end
/// with the program's own exit code. Foundation's `FileHandle.write` traps (SIGILL) on EPIPE
/// and `print` dies of SIGPIPE, so both binaries call `ignoreBrokenPipe()` first and write
/// only through here: plain write(2), retried on EINTR and short writes, and given up on any
/// other error (EPIPE included), since there is nobody left to tell.
public enum StandardStreams {
    /// SIGPIPE ignored: a write to a closed pipe or socket returns EPIPE instead. Sockets need
    /// this too (the admin and metrics servers), so the daemon sets it before any thread starts.
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    public static func out(_ text: String) { write(text, to: 1) }
    public static func err(_ text: String) { write(text, to: 2) }

    /// Writes all of `text` to `fd`, or as much as the reader takes before it goes away.
    /// Returns false when the rest was dropped.
    @discardableResult
    public static func write(_ text: String, to fd: Int32) -> Bool {
        var text = text
        return text.withUTF8 { buffer in
            guard var p = buffer.baseAddress else { return true }
            var left = buffer.count
            while left > 0 {
                let n = Glibc.write(fd, p, left)
                if n > 0 { p += n; left -= n; continue }
                if n < 0 && errno == EINTR { continue }
                return false
            }
            return true
        }
    }
}
