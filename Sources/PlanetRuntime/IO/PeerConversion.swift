import CPlanetShim
import PlanetCore

/// Endpoint <-> the shim's family-neutral peer record. Scope ids travel separately
/// because Endpoint has no room for them (see LinkLocalScopes).
extension planet_peer {
    // Package access: PlanetTesting's `MemoryTransport` stamps the sender as the sockets do.
    package init(_ endpoint: Endpoint, scope: UInt32 = 0) {
        self.init(high: endpoint.address.high, low: endpoint.address.low, scope_id: scope, port: endpoint.port, reserved: 0)
    }

    func endpoint(socket: Int) -> Endpoint {
        Endpoint(address: IPv6Address(high: high, low: low), port: port, socket: socket)
    }
}

extension IPv6Address {
    /// fe80::/10: only meaningful together with an interface (scope id).
    var isLinkLocal: Bool { high >> 54 == 0x3fa }

    func withBytes<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        var tuple: (UInt64, UInt64) = (high.bigEndian, low.bigEndian)
        return withUnsafeBytes(of: &tuple) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }
}
