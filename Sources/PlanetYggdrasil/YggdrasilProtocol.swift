import PlanetCore

/// Yggdrasil's own protocol messages (session payload type 2, yggdrasil-go src/core/proto.go
/// and nodeinfo.go): a node answers a nodeinfo request with its nodeinfo (a JSON object) and
/// the three debug requests (`debug_remoteGetSelf`, `…GetPeers`, `…GetTree`) with what it
/// knows. We answer exactly these, as yggdrasil does, and ask nothing ourselves: a response
/// that arrives is one we never asked for and is counted and dropped.
///
/// Sans-I/O: `answer` takes a message body (the payload type byte already removed by the
/// IPv6 layer) and returns the session message to send back (type byte included), or nil.
public final class YggdrasilProtocol {
    // Protocol message types (the byte after payload type 2).
    public static let typeDummy: UInt8 = 0
    public static let typeNodeInfoRequest: UInt8 = 1
    public static let typeNodeInfoResponse: UInt8 = 2
    public static let typeDebug: UInt8 = 255
    // Debug message types (the byte after 255).
    public static let debugDummy: UInt8 = 0
    public static let debugGetSelfRequest: UInt8 = 1
    public static let debugGetSelfResponse: UInt8 = 2
    public static let debugGetPeersRequest: UInt8 = 3
    public static let debugGetPeersResponse: UInt8 = 4
    public static let debugGetTreeRequest: UInt8 = 5
    public static let debugGetTreeResponse: UInt8 = 6

    /// Yggdrasil refuses a nodeinfo larger than this (nodeinfo.go); so do we.
    public static let maximumNodeInfoBytes = 16384

    /// What a debug answer reports; read only when a request comes.
    public struct View {
        public var key: PublicKey
        /// ironwood's "routing entries": the tree entries the router holds.
        public var routingEntries: Int
        public var peers: [PublicKey]
        public var tree: [PublicKey]
        /// The largest session message; key lists are cut to fit, as yggdrasil cuts them.
        public var messageMTU: Int
        public init(key: PublicKey, routingEntries: Int, peers: [PublicKey], tree: [PublicKey], messageMTU: Int) {
            self.key = key; self.routingEntries = routingEntries; self.peers = peers; self.tree = tree; self.messageMTU = messageMTU
        }
    }

    /// Our nodeinfo, serialized JSON.
    public private(set) var nodeInfo: [UInt8]
    /// Requests answered, by kind: `nodeinfo`, `get-self`, `get-peers`, `get-tree`.
    public private(set) var answered: [String: UInt64] = [:]
    /// Messages not answered: responses we never asked for, dummies, unknown types, empty.
    public private(set) var ignored: UInt64 = 0

    public init(nodeInfo: [UInt8] = YggdrasilProtocol.nodeInfo(extra: [])) {
        self.nodeInfo = nodeInfo
    }

    /// The nodeinfo yggdrasil would send for `extra` (the operator's object): its keys, then
    /// buildname/buildversion/buildplatform/buildarch, which replace any of the same name (as
    /// nodeinfo.go does without NodeInfoPrivacy). Nil when it would exceed 16384 bytes.
    public static func nodeInfo(extra: [(String, JSONValue)]) -> [UInt8] {
        nodeInfoOrNil(extra: extra) ?? Array(JSONValue.object(build).serialized().utf8)
    }

    public static func nodeInfoOrNil(extra: [(String, JSONValue)]) -> [UInt8]? {
        let ours = Set(build.map(\.0))
        let doc = JSONValue.object(extra.filter { !ours.contains($0.0) } + build)
        let bytes = Array(doc.serialized().utf8)
        return bytes.count <= maximumNodeInfoBytes ? bytes : nil
    }

    static var build: [(String, JSONValue)] {
        #if arch(x86_64)
        let arch = "amd64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "unknown"
        #endif
        return [("buildname", .string("planetary")), ("buildversion", .string(PlanetVersion.string)),
                ("buildplatform", .string("linux")), ("buildarch", .string(arch))]
    }

    /// The answer to `body` from `sender`, or nil. `view` is read only for a debug request.
    public func answer(_ body: [UInt8], view: () -> View) -> [UInt8]? {
        guard let kind = body.first else { ignored += 1; return nil }
        switch kind {
        case Self.typeNodeInfoRequest:
            answered["nodeinfo", default: 0] += 1
            return [YggdrasilIPv6.typeProtocol, Self.typeNodeInfoResponse] + nodeInfo
        case Self.typeDebug where body.count >= 2:
            let v = view()
            let head = [YggdrasilIPv6.typeProtocol, Self.typeDebug]
            switch body[1] {
            case Self.debugGetSelfRequest:
                answered["get-self", default: 0] += 1
                // proto.go: a map of strings, routing_entries in decimal.
                let json = JSONValue.object([("key", .string(v.key.hex)), ("routing_entries", .string(String(v.routingEntries)))])
                return head + [Self.debugGetSelfResponse] + Array(json.serialized().utf8)
            case Self.debugGetPeersRequest:
                answered["get-peers", default: 0] += 1
                return head + [Self.debugGetPeersResponse] + Self.keyList(v.peers, mtu: v.messageMTU)
            case Self.debugGetTreeRequest:
                answered["get-tree", default: 0] += 1
                return head + [Self.debugGetTreeResponse] + Self.keyList(v.tree, mtu: v.messageMTU)
            default:
                ignored += 1
                return nil
            }
        default:
            ignored += 1
            return nil
        }
    }

    /// Keys back to back, as many as fit (proto.go counts 2 bytes of overhead; we count the
    /// payload type byte as well, so the answer always fits a session message).
    static func keyList(_ keys: [PublicKey], mtu: Int) -> [UInt8] {
        var out: [UInt8] = []
        for k in keys {
            guard out.count + 32 + 3 <= mtu else { break }
            out += k.bytes
        }
        return out
    }

    /// The drop for stats: `ygg-protocol-ignored` (what was answered is `answered`).
    public func report() -> [(String, UInt64)] {
        ignored > 0 ? [("ygg-protocol-ignored", ignored)] : []
    }
}
