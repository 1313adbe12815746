import PlanetCore

/// Amounts of the four resources as the grid names them: `cru` logical CPUs, `mru` memory,
/// `sru` SSD and `hru` HDD space, the last three in bytes.
public struct CapacityResources: Equatable, Hashable, Sendable {
    public var cru: UInt64
    public var mru: UInt64
    public var sru: UInt64
    public var hru: UInt64

    public init(cru: UInt64 = 0, mru: UInt64 = 0, sru: UInt64 = 0, hru: UInt64 = 0) {
        self.cru = cru; self.mru = mru; self.sru = sru; self.hru = hru
    }

    public static let zero = CapacityResources()

    /// Each resource less the other's, stopping at zero: a node whose reserve and VMs exceed
    /// what it offers has nothing free, not a negative amount.
    public func subtractingClamped(_ o: CapacityResources) -> CapacityResources {
        CapacityResources(cru: cru > o.cru ? cru - o.cru : 0, mru: mru > o.mru ? mru - o.mru : 0,
                          sru: sru > o.sru ? sru - o.sru : 0, hru: hru > o.hru ? hru - o.hru : 0)
    }

    public func adding(_ o: CapacityResources) -> CapacityResources {
        CapacityResources(cru: cru &+ o.cru, mru: mru &+ o.mru, sru: sru &+ o.sru, hru: hru &+ o.hru)
    }

    public subscript(name: String) -> UInt64? {
        switch name {
        case "cru": return cru
        case "mru": return mru
        case "sru": return sru
        case "hru": return hru
        default: return nil
        }
    }

    public var json: JSONValue {
        .object([("cru", .number(Double(cru))), ("mru", .number(Double(mru))), ("sru", .number(Double(sru))), ("hru", .number(Double(hru)))])
    }
}

/// One graphics card: PCI ids and, for vendors we know, a readable name.
public struct CapacityGPU: Equatable, Hashable, Sendable {
    public var vendor: UInt16
    public var device: UInt16
    public var name: String

    public init(vendor: UInt16, device: UInt16, name: String) {
        self.vendor = vendor; self.device = device; self.name = name
    }

    /// The vendors a `--gpu VENDOR` filter can name, by PCI vendor id.
    public static let knownVendors: [UInt16: String] = [0x10de: "nvidia", 0x1002: "amd", 0x8086: "intel",
                                                        0x1a03: "aspeed", 0x15ad: "vmware", 0x1234: "qemu", 0x1af4: "virtio"]

    public var vendorName: String { CapacityGPU.knownVendors[vendor] ?? String(vendor, radix: 16) }
}
