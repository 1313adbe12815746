import PlanetCore

/// Remembers the overlay address and /64 each key derives, for the per-packet source check on
/// delivery: deriving them walks all 256 key bits and allocates, which cost ~10% of the
/// receive path. The last key hits without hashing (a flow's packets come in runs); the table
/// is bounded and simply cleared when full, since an entry is cheap to recompute.
struct OwnedAddressCache {
    static let capacity = 4096
    private var lastKey: PublicKey?
    private var last = (address: IPv6Address.zero, subnet: IPv6Prefix(address: .zero, length: 64))
    private var table: [PublicKey: (address: IPv6Address, subnet: IPv6Prefix)] = [:]

    /// Keys held (for the bound's test).
    var count: Int { table.count }

    /// Whether `source` is `key`'s address or inside `key`'s subnet (the same answer as
    /// `OverlayAddress.key(_:owns:) || OverlayAddress.key(_:ownsSubnetAddress:)`).
    mutating func key(_ key: PublicKey, owns source: IPv6Address) -> Bool {
        if lastKey != key {
            if let hit = table[key] {
                last = hit
            } else {
                if table.count >= OwnedAddressCache.capacity { table.removeAll(keepingCapacity: true) }
                last = (key.address, key.subnet)
                table[key] = last
            }
            lastKey = key
        }
        return source == last.address || last.subnet.contains(source)
    }
}
