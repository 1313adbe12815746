import Foundation
import PlanetCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes log lines to stderr as `key=value` pairs. Under systemd (JOURNAL_STREAM set) each
/// line starts with a `<N>` syslog priority and carries no timestamp, since journald adds one.
public enum StderrLog {
    public static func logger(level: LogLevel) -> Logger {
        let journald = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        return Logger(level: level) { l, message, fields in
            var line = ""
            if journald {
                line += "<\(priority(l))>"
            } else {
                line += "ts=\(timestamp()) "
            }
            line += "level=\(l.name) msg=\(quote(message))"
            for (k, v) in fields { line += " \(k)=\(quote(v))" }
            line += "\n"
            // Never traps: a closed stderr (a pipe whose reader left) loses the line, not the node.
            StandardStreams.err(line)
        }
    }

    static func priority(_ l: LogLevel) -> Int {
        switch l { case .error: return 3; case .warn: return 4; case .info: return 6; case .debug, .trace: return 7 }
    }

    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                      Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec), Int(tv.tv_usec / 1000))
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) { return s }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
