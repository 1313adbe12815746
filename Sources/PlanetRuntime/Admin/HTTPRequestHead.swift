/// The head of one HTTP/1.x request, as the metrics and web servers read it: they answer one
/// request per connection, take no body, and treat anything else as a 4xx, never a crash.
struct HTTPRequestHead: Equatable {
    var method: String
    /// The path without its query: `/api/nodes`.
    var path: String
    /// The query after `?`, undecoded (`country=BE&free-mru=8G`), empty without one.
    var query: String
    /// Header names lower-cased, values trimmed; a repeated header keeps its last value.
    var headers: [String: String]

    enum Reading: Equatable {
        /// The blank line ending the head has not arrived yet.
        case incomplete
        /// More than the limit arrived without a complete head (431).
        case tooLarge
        /// Not an HTTP/1.x request line (400).
        case malformed
        case head(HTTPRequestHead)
    }

    /// Reads the head from what a client sent so far.
    static func read(_ b: [UInt8], maxBytes: Int) -> Reading {
        guard let end = headerEnd(b) else { return b.count > maxBytes ? .tooLarge : .incomplete }
        if end > maxBytes { return .tooLarge }
        // Bytes, not Characters: Swift treats "\r\n" as one Character, which "\n" never matches.
        var lines: [String] = []
        var start = 0
        for i in 0..<end where b[i] == 0x0a {
            var line = b[start..<i]
            if line.last == 0x0d { line = line.dropLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            start = i + 1
        }
        guard let requestLine = lines.first else { return .malformed }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else { return .malformed }
        let target = parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .malformed }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmedOfBlanks()
        }
        return .head(HTTPRequestHead(method: String(parts[0]), path: String(target[0]),
                                     query: target.count > 1 ? String(target[1]) : "", headers: headers))
    }

    /// Index just past the blank line ending the request head; a bare `\n\n` is accepted too.
    static func headerEnd(_ b: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < b.count {
            if b[i] == 0x0a {
                if b[i + 1] == 0x0a { return i + 2 }
                if b[i + 1] == 0x0d, i + 2 < b.count, b[i + 2] == 0x0a { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// `response` with a body of bytes: the head, then the body copied once.
    static func response(status: String, body: [UInt8], contentType: String, extra: String = "", headOnly: Bool = false) -> [UInt8] {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\(extra)Connection: close\r\n\r\n"
        var out: [UInt8] = []
        out.reserveCapacity(head.utf8.count + (headOnly ? 0 : body.count))
        out.append(contentsOf: head.utf8)
        if !headOnly { out.append(contentsOf: body) }
        return out
    }

    /// A whole response that closes the connection (`Connection: close`: one request each).
    static func response(status: String, body: String, contentType: String = "text/plain; charset=utf-8", extra: String = "",
                         headOnly: Bool = false) -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\(extra)Connection: close\r\n\r\n"
            + (headOnly ? "" : body)
    }
}

private extension StringProtocol {
    func trimmedOfBlanks() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
