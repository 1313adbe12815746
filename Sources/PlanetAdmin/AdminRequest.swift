import PlanetCore

/// One admin call with its arguments typed and checked: what a handler takes. The server
/// makes it from a request line (`decode`), planetctl from its command line, and both send
/// or check it with the same code, so a value the daemon would refuse is refused before it
/// is sent. The JSON form (`line`, Docs/cli.md) exists only at the socket.
public enum AdminRequest: Equatable, Sendable {
    case list
    case getSelf
    case getPeers
    case addPeer(PeerURI)
    case removePeer(PeerURI)
    case getRoutes
    case getSessions
    case getStats
    case vmAttach(VMAttachRequest)
    case vmDetach(name: String)
    case vmList
    case vmShow(name: String)
    /// The rules as typed (the host parses them where it stores them).
    case vmPolicy(name: String, allow: [String])
    case vmCloudInit(name: String)
    case getNodes
    /// A public key or an overlay address, as typed (the node resolves it).
    case getNode(String)
    /// The filters in the order given; their values are checked by the node (CapacityQuery).
    case findNodes([Filter])

    /// A `findNodes` filter as sent: which one, and its value as typed.
    public struct Filter: Equatable, Sendable {
        public let filter: NodeFilter
        public let value: String
        public init(_ filter: NodeFilter, _ value: String) { self.filter = filter; self.value = value }
    }

    public var call: AdminCall {
        switch self {
        case .list: return .list
        case .getSelf: return .getSelf
        case .getPeers: return .getPeers
        case .addPeer: return .addPeer
        case .removePeer: return .removePeer
        case .getRoutes: return .getRoutes
        case .getSessions: return .getSessions
        case .getStats: return .getStats
        case .vmAttach: return .vmAttach
        case .vmDetach: return .vmDetach
        case .vmList: return .vmList
        case .vmShow: return .vmShow
        case .vmPolicy: return .vmPolicy
        case .vmCloudInit: return .vmCloudInit
        case .getNodes: return .getNodes
        case .getNode: return .getNode
        case .findNodes: return .findNodes
        }
    }

    // MARK: The wire

    /// The request's arguments as the line carries them, in the documented order.
    var wireArguments: [(String, JSONValue)] {
        switch self {
        case .addPeer(let uri), .removePeer(let uri): return [("uri", .string(uri.description))]
        case .vmAttach(let r): return r.wireArguments
        case .vmDetach(let n), .vmShow(let n), .vmCloudInit(let n): return [("name", .string(n))]
        case .vmPolicy(let n, let allow): return [("name", .string(n)), ("allow", .array(allow.map { .string($0) }))]
        case .getNode(let node): return [("node", .string(node))]
        case .findNodes(let filters): return filters.map { ($0.filter.argument, .string($0.value)) }
        case .list, .getSelf, .getPeers, .getRoutes, .getSessions, .getStats, .vmList, .getNodes: return []
        }
    }

    /// The request as the line a client sends, newline included:
    /// `{"request":"addPeer","uri":"udp://192.0.2.1:8470"}`.
    public var line: String {
        JSONValue.object([("request", .string(call.rawValue))] + wireArguments).serialized() + "\n"
    }

    /// Reads a request line (without its newline). A line the server cannot take is a
    /// `.request` error; a value the call refuses, an `.argument` error naming it.
    public static func decode(_ line: String) -> Result<AdminRequest, AdminError> {
        let doc: JSONValue
        do { doc = try JSONValue.parse(line, maxDepth: 16) } catch { return .failure(.request("malformed JSON: \(error.description)")) }
        guard let pairs = doc.objectValue else {
            return .failure(.request("a request must be a JSON object like {\"request\": \"getPeers\"}, got \(doc.typeName)"))
        }
        guard let nameValue = doc["request"] else { return .failure(.request("missing \"request\" (one of \(AdminCall.names.joined(separator: ", ")))")) }
        guard let name = nameValue.stringValue else { return .failure(.request("\"request\" must be a string, got \(nameValue.typeName)")) }
        guard let call = AdminCall(rawValue: name) else {
            return .failure(.request("unknown request '\(name)' (known: \(AdminCall.names.joined(separator: ", ")))"))
        }
        let arguments = pairs.filter { $0.0 != "request" }
        for (key, value) in arguments {
            guard let spec = call.arguments.first(where: { $0.name == key }) else { return .failure(.request("\(name) takes no argument '\(key)'")) }
            switch spec.kind {
            case .string:
                guard value.stringValue != nil else { return .failure(.request("argument '\(key)' of \(name) must be a string, got \(value.typeName)")) }
            case .stringList:
                guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    return .failure(.request("argument '\(key)' of \(name) must be a list of strings, got \(value.typeName)"))
                }
            }
        }
        for spec in call.arguments where spec.required && doc[spec.name] == nil {
            return .failure(.request("\(name) needs the argument '\(spec.name)'"))
        }
        return typed(call, .object(arguments))
    }

    /// The call with its arguments (already of the right JSON types) as a typed value.
    static func typed(_ call: AdminCall, _ a: JSONValue) -> Result<AdminRequest, AdminError> {
        let name = a["name"]?.stringValue ?? ""
        switch call {
        case .list: return .success(.list)
        case .getSelf: return .success(.getSelf)
        case .getPeers: return .success(.getPeers)
        case .addPeer, .removePeer:
            let text = a["uri"]?.stringValue ?? ""
            switch PeerURI.parse(text) {
            case .success(let uri): return .success(call == .addPeer ? .addPeer(uri) : .removePeer(uri))
            case .failure(let e): return .failure(.argument("uri", e.description))
            }
        case .getRoutes: return .success(.getRoutes)
        case .getSessions: return .success(.getSessions)
        case .getStats: return .success(.getStats)
        case .vmAttach:
            do { return .success(.vmAttach(try VMAttachRequest(arguments: a))) } catch { return .failure(AdminError(error)) }
        case .vmDetach: return .success(.vmDetach(name: name))
        case .vmList: return .success(.vmList)
        case .vmShow: return .success(.vmShow(name: name))
        case .vmPolicy: return .success(.vmPolicy(name: name, allow: (a["allow"]?.arrayValue ?? []).compactMap(\.stringValue)))
        case .vmCloudInit: return .success(.vmCloudInit(name: name))
        case .getNodes: return .success(.getNodes)
        case .getNode: return .success(.getNode(a["node"]?.stringValue ?? ""))
        case .findNodes:
            // `decode` has refused any key that names no filter.
            return .success(.findNodes((a.objectValue ?? []).compactMap { k, v in
                NodeFilter(rawValue: k).flatMap { f in v.stringValue.map { Filter(f, $0) } }
            }))
        }
    }
}
