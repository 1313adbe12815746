/// The `nodes find` filters, declared once: the `findNodes` admin argument (the case's name),
/// the planetctl option, the value it takes and what it keeps. The admin call's arguments,
/// planetctl's parser and help, and the node's query parser (`CapacityQuery`, which switches
/// over every case) all come from this list, and a test holds Docs/cli.md's filter table to
/// it, so a filter is added everywhere at once or the build or that test fails. Here in
/// PlanetCore because both sides need it: PlanetAdmin (the protocol) and PlanetCapacity (the
/// finder) know nothing of each other.
public enum NodeFilter: String, CaseIterable, Sendable {
    // Named as grid-explorer users know them; in the order the help and the docs list them.
    case freeMru, freeSru, freeHru, totalCru, country, city, farm, ipv4, ipv6, gpu, tag, near, radius, reachable, sort, order, limit

    /// What follows the option on the command line. A flag is sent as `"true"`; an optional
    /// value missing is sent as `""`.
    public enum Value: Equatable, Sendable {
        case required(String)
        case optional(String)
        case flag
    }

    /// The admin argument: `freeMru`.
    public var argument: String { rawValue }

    /// The planetctl option without its dashes: `free-mru`.
    public var option: String {
        rawValue.reduce(into: "") { out, c in
            if c.isUppercase { out += "-" + c.lowercased() } else { out.append(c) }
        }
    }

    public var value: Value {
        switch self {
        case .freeMru, .freeSru, .freeHru: return .required("SIZE")
        case .totalCru, .limit: return .required("N")
        case .country: return .required("CC")
        case .city: return .required("NAME")
        case .farm: return .required("ID[,ID...]")
        case .ipv4, .ipv6, .reachable: return .flag
        case .gpu: return .optional("VENDOR")
        case .tag: return .required("T")
        case .near: return .required("LAT,LON")
        case .radius: return .required("KM")
        case .sort: return .required("KEY")
        case .order: return .required("asc|desc")
        }
    }

    /// How it is typed: `--free-mru SIZE`, `--gpu [VENDOR]`, `--ipv4`.
    public var usage: String {
        switch value {
        case .required(let v): return "--\(option) \(v)"
        case .optional(let v): return "--\(option) [\(v)]"
        case .flag: return "--\(option)"
        }
    }

    /// What it keeps (or does), one sentence: planetctl's help prints it and Docs/cli.md's
    /// table says the same (a test compares them).
    public var help: String {
        switch self {
        case .freeMru: return "at least SIZE free memory; sizes 512M, 16G, 2T (binary units), 16GiB, or bytes"
        case .freeSru: return "at least SIZE free SSD"
        case .freeHru: return "at least SIZE free HDD"
        case .totalCru: return "at least N CPUs offered"
        case .country: return "that ISO 3166 country (either case)"
        case .city: return "that city (case-insensitive)"
        case .farm: return "one of these farm ids"
        case .ipv4: return "a public IPv4 address"
        case .ipv6: return "a public IPv6 address"
        case .gpu: return "a GPU; of that vendor (nvidia, amd, intel, … or the PCI vendor id in hex)"
        case .tag: return "that tag"
        case .near: return "measures the distance from LAT,LON (a DISTANCE column; distanceKm in --json)"
        case .radius: return "coordinates within KM of --near (great circle)"
        case .reachable: return "a current route from this node"
        case .sort: return "order by metric (the route metric from this node, the default; rtt, its old name, is still read), distance (from --near, else this node's coordinates), free-mru, free-sru, free-hru, cru, age"
        case .order: return "default: most first for sizes and cru, nearest/youngest first otherwise"
        case .limit: return "at most N rows"
        }
    }
}
