#if canImport(Glibc)
import Glibc
#endif

public struct FuzzCorpusError: Error, CustomStringConvertible {
    public let description: String
}

/// Reading inputs for replay (planetfuzz without libFuzzer, and PlanetFuzzTests).
public enum FuzzCorpus {
    /// The regular files named, and those directly inside the directories named, sorted.
    public static func files(_ paths: some Sequence<String>) throws -> [String] {
        var out: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { throw FuzzCorpusError(description: "\(path): no such file or directory") }
            if info.st_mode & S_IFMT == S_IFDIR {
                guard let dir = opendir(path) else { throw FuzzCorpusError(description: "\(path): cannot open directory") }
                defer { closedir(dir) }
                var names: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if name.hasPrefix(".") { continue }
                    names.append(path + "/" + name)
                }
                out += names.sorted()
            } else {
                out.append(path)
            }
        }
        return out
    }

    /// A whole file's bytes.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw FuzzCorpusError(description: "\(path): cannot open") }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out += chunk[..<n] }
            if n < chunk.count { break }
        }
        return out
    }
}
