#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A process's memory and CPU time as Linux reports them in /proc: the generator's own
/// (`self`) and, with `--target-pid`, the hub's, which is how the hub's figures in
/// Docs/scale.md are measured.
struct ProcStats {
    /// VmRSS and VmHWM (peak) in bytes.
    var rssBytes: UInt64 = 0
    var hwmBytes: UInt64 = 0
    /// utime + stime, seconds.
    var cpuSeconds: Double = 0

    static func read(_ pid: String) -> ProcStats? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        var s = ProcStats()
        for line in status.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kb = UInt64(parts[1]) else { continue }
            if parts[0] == "VmRSS:" { s.rssBytes = kb * 1024 }
            if parts[0] == "VmHWM:" { s.hwmBytes = kb * 1024 }
        }
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        guard let close = stat.lastIndex(of: ")") else { return s }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        if fields.count > 12, let u = Double(fields[11]), let k = Double(fields[12]) {
            s.cpuSeconds = (u + k) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return s
    }
}
