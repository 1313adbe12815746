import PlanetCore
import PlanetAdmin
import PlanetCapacity

/// The explorer page's JSON (`/api/...`): each endpoint is one admin call, asked of the same
/// `AdminHandler` the admin socket asks and encoded from the same typed reply by the same
/// coder, so the page and `planetctl --json` cannot disagree (one source of truth). Nothing
/// here changes the node: only reading calls are mapped.
enum WebAPI {
    /// An answer ready to send: HTTP status line text and the JSON body, as UTF-8 (a
    /// directory's is megabytes: it is copied once more, into the response, and no more).
    struct Answer: Equatable {
        var status: String
        var body: [UInt8]
    }

    /// The endpoints without arguments and the call each one makes.
    static let calls: [String: AdminRequest] = [
        "/api/self": .getSelf,
        "/api/peers": .getPeers,
        "/api/sessions": .getSessions,
        "/api/routes": .getRoutes,
        "/api/vms": .vmList,
    ]

    /// The answer for `path`, or nil when it is not an API path (the server answers 404).
    static func answer(path: String, query: String, handler: AdminHandler) -> Answer? {
        if path == "/api/filters" { return Answer(status: "200 OK", body: Array(filters.serialized().utf8)) }
        let request: AdminRequest
        if let call = calls[path] {
            request = call
        } else if path == "/api/nodes" {
            switch nodesRequest(query: query) {
            case .success(let r): request = r
            case .failure(let e): return failure(e)
            }
        } else {
            return nil
        }
        switch handler.handle(request) {
        case .failure(let e): return failure(e)
        case .success(let reply):
            // encodeUTF8: encode(reply).serialized() byte for byte, the admin socket's `response`
            // (WebServerTests holds them equal), in less time for a large directory.
            do { return Answer(status: "200 OK", body: try JSONValueCoder.encodeUTF8(reply)) } catch {
                return failure(AdminError("cannot write the reply: \(error)"))
            }
        }
    }

    /// `{"error": {"kind", "argument", "message"}}`, as `planetctl --json` prints a failure: 400
    /// for the caller's mistake, 503 when the node could not answer.
    static func failure(_ e: AdminError) -> Answer {
        let body = JSONValue.object([("error", .object([
            ("kind", .string(e.kind.rawValue)),
            ("argument", e.argument.map { .string($0) } ?? .null),
            ("message", .string(e.message)),
        ]))])
        return Answer(status: e.kind == .node ? "503 Service Unavailable" : "400 Bad Request", body: Array(body.serialized().utf8))
    }

    /// `/api/nodes?country=BE&free-mru=8G` → `findNodes`: the parameters are `planetctl nodes find`'s
    /// options without their dashes, in the order given. A flag (`ipv4`) needs no value; an
    /// empty value of any other filter is left out (a form's blank field), except `gpu`, where
    /// empty means any vendor. An unknown parameter is refused naming it.
    static func nodesRequest(query: String) -> Result<AdminRequest, AdminError> {
        var filters: [AdminRequest.Filter] = []
        for (name, value) in queryPairs(query) {
            guard let filter = NodeFilter.allCases.first(where: { $0.option == name }) else {
                return .failure(.argument(name, "not a filter of nodes find (known: \(NodeFilter.allCases.map(\.option).joined(separator: ", ")))"))
            }
            switch filter.value {
            case .flag: filters.append(.init(filter, value.isEmpty ? "true" : value))
            case .optional: filters.append(.init(filter, value))
            case .required: if !value.isEmpty { filters.append(.init(filter, value)) }
            }
        }
        return .success(.findNodes(filters))
    }

    /// The finder's filters as the page builds its form from them (`/api/filters`): NodeFilter's
    /// names, values and help, so the page's names cannot drift from planetctl's.
    static var filters: JSONValue {
        .object([("filters", .array(NodeFilter.allCases.map { f in
            var fields: [(String, JSONValue)] = [("name", .string(f.option)), ("argument", .string(f.argument))]
            switch f.value {
            case .required(let v): fields += [("takes", .string("value")), ("placeholder", .string(v))]
            case .optional(let v): fields += [("takes", .string("optional")), ("placeholder", .string(v))]
            case .flag: fields += [("takes", .string("flag")), ("placeholder", .string(""))]
            }
            fields.append(("help", .string(f.help)))
            switch f {
            case .sort: fields.append(("choices", .array(CapacityQuery.Sort.allCases.map { .string($0.rawValue) })))
            case .order: fields.append(("choices", .array([.string("asc"), .string("desc")])))
            default: break
            }
            return .object(fields)
        }))])
    }

    /// `a=1&b=x%20y+z` → [("a", "1"), ("b", "x y z")]; a name without `=` has an empty value.
    static func queryPairs(_ query: String) -> [(String, String)] {
        query.split(separator: "&").compactMap { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(kv[0])
            return name.isEmpty ? nil : (name, kv.count > 1 ? percentDecoded(kv[1]) : "")
        }
    }

    /// Form encoding: `+` is a space, `%XX` a byte; a malformed escape stays as it is.
    static func percentDecoded<S: StringProtocol>(_ s: S) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if b == UInt8(ascii: "%"), it.count >= 2, let hi = Hex.nibble(it[it.startIndex]), let lo = Hex.nibble(it[it.startIndex + 1]) {
                bytes.append(hi << 4 | lo)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

}
