import PlanetCore

/// `vmAttach`'s arguments, checked: what planetctl sends and what `VMHost.attach` takes. The
/// numbers travel as the text the operator typed and are read here by the daemon's one parser
/// (`VMResources`), so planetctl and planetd word every refusal the same way.
public struct VMAttachRequest: Equatable, Sendable {
    public var name: String
    public var tap: String?
    public var netns: String?
    public var owner: String?
    public var address: IPv6Address?
    public var policy: VMPolicy = .any
    public var cpu: Int?
    public var memoryBytes: UInt64?
    public var diskBytes: UInt64?
    /// Attach even if cpu, memory or disk exceed what the node has free (VMAdmin checks).
    public var force = false

    public init(name: String) { self.name = name }

    /// From the call's arguments as they travel (strings, `allow` a list of strings).
    public init(arguments a: JSONValue) throws(VMTableError) {
        name = a["name"]?.stringValue ?? ""
        if let e = VMTable.checkName(name) { throw e }
        tap = a["tap"]?.stringValue
        netns = a["netns"]?.stringValue
        owner = a["owner"]?.stringValue
        guard (tap == nil) != (netns == nil) else { throw VMTableError(argument: "tap/netns", "give exactly one of --tap IFNAME or --netns NS") }
        if owner != nil, tap == nil { throw VMTableError(argument: "owner", "only a tap has an owner") }
        if let tap, !VMAttachRequest.validInterfaceName(tap) {
            throw VMTableError(argument: "tap", "'\(tap)' is not an interface name (1-15 characters, no '/', ':' or spaces)")
        }
        if let netns, netns.isEmpty || netns.contains("/") { throw VMTableError(argument: "netns", "'\(netns)' is not a namespace name") }
        if let owner, owner.isEmpty || owner.contains(" ") { throw VMTableError(argument: "owner", "'\(owner)' is not a user") }
        if let text = a["address"]?.stringValue {
            guard let addr = IPv6Address(text) else { throw VMTableError(argument: "address", "'\(text)' is not an IPv6 address") }
            address = addr
        }
        let allow = (a["allow"]?.arrayValue ?? []).compactMap(\.stringValue)
        switch VMPolicy.parse(allow) {
        case .success(let p): policy = p
        case .failure(let e): throw VMTableError(argument: "allow", e.description)
        }
        if let t = a["cpu"]?.stringValue { cpu = try VMResources.cpu(t).get() }
        if let t = a["memory"]?.stringValue { memoryBytes = try VMResources.size(t, argument: "memory").get() }
        if let t = a["disk"]?.stringValue { diskBytes = try VMResources.size(t, argument: "disk").get() }
        if let t = a["force"]?.stringValue { guard t == "true" || t == "false" else { throw VMTableError(argument: "force", "must be \"true\" or \"false\", got '\(t)'") }; force = t == "true" }
    }

    /// The arguments as the line carries them: only those given, sizes as bytes (which
    /// `VMResources` reads back to the same number), the rules as `--allow` takes them.
    var wireArguments: [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [("name", .string(name))]
        if let tap { out.append(("tap", .string(tap))) }
        if let netns { out.append(("netns", .string(netns))) }
        if let owner { out.append(("owner", .string(owner))) }
        if let address { out.append(("address", .string(address.description))) }
        if policy != .any { out.append(("allow", .array(policy.texts.map { .string($0) }))) }
        if let cpu { out.append(("cpu", .string(String(cpu)))) }
        if let memoryBytes { out.append(("memory", .string(String(memoryBytes)))) }
        if let diskBytes { out.append(("disk", .string(String(diskBytes)))) }
        if force { out.append(("force", .string("true"))) }
        return out
    }

    static func validInterfaceName(_ n: String) -> Bool {
        (1...15).contains(n.utf8.count) && !n.contains("/") && !n.contains(":") && !n.contains(" ") && n != "." && n != ".."
    }
}
