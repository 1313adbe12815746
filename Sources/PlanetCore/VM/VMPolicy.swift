/// Who may reach a VM: the VM owner's inbound rules, enforced by planetd on every packet for
/// the VM with the sender's *authenticated* key (the key that holds the session or the link the
/// packet came through), which no address filter on another overlay can see.
///
/// A rule is `any`, or a comma-joined combination of at most one `key:HEX` (64 hex digits: an
/// ed25519 public key) and at most one `tcp:PORT` or `udp:PORT`. Within a rule every part must
/// match; a policy's rules add up (any one matching rule lets the packet through).
///
/// What a rule sees of a packet is the first next header and, for TCP and UDP, the destination
/// port. A packet whose first header is an extension header (a fragment, say) has no port to
/// match, so only rules without a port part (`any`, `key:HEX`) let it through: a filter that
/// cannot see the port must not guess. ICMPv6 echo requests count as "no port": `key:HEX` lets
/// that key ping, `tcp:22` alone does not. (Errors and answers to the VM's own traffic pass
/// before the rules are asked; see `Node`'s VM inbound check.)
public struct VMRule: Hashable, Sendable, CustomStringConvertible {
    public enum TransportProtocol: String, Sendable {
        case tcp, udp
        public var nextHeader: UInt8 { self == .tcp ? 6 : 17 }
    }

    /// nil: any sender.
    public var key: PublicKey?
    /// nil: any protocol and port.
    public var transport: TransportProtocol?
    public var port: UInt16 = 0

    public init(key: PublicKey? = nil, transport: TransportProtocol? = nil, port: UInt16 = 0) {
        self.key = key
        self.transport = transport
        self.port = port
    }

    public static let any = VMRule()

    public var isAny: Bool { key == nil && transport == nil }

    /// Parses one rule (`any`, `key:HEX`, `tcp:22`, `key:HEX,tcp:22`); the error names the part.
    public static func parse(_ text: String) -> Result<VMRule, VMPolicyError> {
        let trimmed = text.trimmingSpaces
        if trimmed == "any" { return .success(.any) }
        guard !trimmed.isEmpty else { return .failure(VMPolicyError("empty rule (use any, key:HEX, tcp:PORT, udp:PORT or a combination like key:HEX,tcp:22)")) }
        var rule = VMRule()
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false).map({ String($0).trimmingSpaces }) {
            let kv = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard kv.count == 2 else {
                if part == "any" { return .failure(VMPolicyError("'any' cannot be combined with other parts in '\(trimmed)'")) }
                return .failure(VMPolicyError("'\(part)' in rule '\(trimmed)' is not key:HEX, tcp:PORT or udp:PORT"))
            }
            switch kv[0] {
            case "key":
                guard rule.key == nil else { return .failure(VMPolicyError("rule '\(trimmed)' names more than one key (use one --allow per key)")) }
                guard kv[1].utf8.count == 64, let key = PublicKey(hex: kv[1]) else {
                    return .failure(VMPolicyError("key '\(kv[1])' is not a public key (64 hex digits)"))
                }
                rule.key = key
            case "tcp", "udp":
                guard rule.transport == nil else { return .failure(VMPolicyError("rule '\(trimmed)' names more than one port (use one --allow per port)")) }
                guard let port = UInt16(kv[1]), port > 0 else { return .failure(VMPolicyError("port '\(kv[1])' in '\(part)' is not a number in 1...65535")) }
                rule.transport = TransportProtocol(rawValue: kv[0])
                rule.port = port
            default:
                return .failure(VMPolicyError("unknown rule part '\(kv[0])' in '\(trimmed)' (any, key:HEX, tcp:PORT, udp:PORT)"))
            }
        }
        return .success(rule)
    }

    /// Whether this rule lets a packet from `sender` through. `nextHeader` is the packet's
    /// first next header; `destinationPort` its TCP or UDP destination port, nil for anything else.
    public func allows(sender: PublicKey, nextHeader: UInt8, destinationPort: UInt16?) -> Bool {
        if let key, key != sender { return false }
        if let transport {
            guard nextHeader == transport.nextHeader, destinationPort == port else { return false }
        }
        return true
    }

    public var description: String {
        if isAny { return "any" }
        var parts: [String] = []
        if let key { parts.append("key:\(key.hex)") }
        if let transport { parts.append("\(transport.rawValue):\(port)") }
        return parts.joined(separator: ",")
    }
}

/// A VM's inbound rules. Empty is not a policy (it would refuse everything, which nobody asks
/// for by accident); the default is `any`, as a VM on the overlay is today.
public struct VMPolicy: Hashable, Sendable, CustomStringConvertible {
    public private(set) var rules: [VMRule]

    public init(rules: [VMRule]) {
        self.rules = rules.isEmpty ? [.any] : rules
        if self.rules.contains(where: \.isAny) { self.rules = [.any] }
    }

    public static let any = VMPolicy(rules: [.any])

    public var allowsAll: Bool { rules == [.any] }

    /// Parses every `--allow` value; the first bad one is the error. No values: `any`.
    public static func parse(_ texts: [String]) -> Result<VMPolicy, VMPolicyError> {
        var rules: [VMRule] = []
        for t in texts {
            switch VMRule.parse(t) {
            case .success(let r): if !rules.contains(r) { rules.append(r) }
            case .failure(let e): return .failure(e)
            }
        }
        return .success(VMPolicy(rules: rules))
    }

    public func allows(sender: PublicKey, nextHeader: UInt8, destinationPort: UInt16?) -> Bool {
        rules.contains { $0.allows(sender: sender, nextHeader: nextHeader, destinationPort: destinationPort) }
    }

    /// The rules as `--allow` would take them.
    public var texts: [String] { rules.map(\.description) }

    public var description: String { texts.joined(separator: " ") }
}

public struct VMPolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
