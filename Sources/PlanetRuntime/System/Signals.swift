#if canImport(Glibc)
import Glibc
#endif

/// Blocks SIGINT/SIGTERM/SIGHUP in every thread (call before starting threads) so they can
/// be taken synchronously by one waiter instead of interrupting arbitrary code.
public enum Signals {
    public static func blockTermination() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Waits for SIGINT or SIGTERM (SIGHUP is ignored for now) and returns its number.
    public static func waitForTermination() -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        while true {
            var sig: Int32 = 0
            if sigwait(&set, &sig) == 0, sig != SIGHUP { return sig }
        }
    }
}
