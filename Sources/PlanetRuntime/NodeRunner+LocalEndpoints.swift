import PlanetCore
import PlanetNode
#if canImport(Glibc)
import Glibc
#endif

/// Tells the node the host's addresses with its listening port, for hole punching's `local`
/// candidates; again every `localEndpointsInterval`, as a laptop's addresses change.
extension NodeRunner {
    static let localEndpointsInterval = 30.0

    func refreshLocalEndpoints() {
        var endpoints: [Endpoint] = []
        let addresses = InterfaceAddresses.unicast(excluding: [config.tun.name])
        for (i, t) in transports.enumerated() {
            let bound = t.localEndpoint
            let unspecified = bound.address == IPv6Address(high: 0, low: 0) || bound.address == IPv6Address(high: 0, low: 0x0000_ffff_0000_0000)
            guard unspecified else {
                // A socket bound to one address is reachable only there.
                endpoints.append(Endpoint(address: bound.address, port: bound.port))
                continue
            }
            // An IPv6 socket on [::] is dual-stack (IPv4 as ::ffff:a.b.c.d); an IPv4 one takes IPv4 only.
            for a in addresses {
                let isV4 = a.high == 0 && a.low >> 32 == 0x0000_ffff
                if transportFamilies[i] == AF_INET && !isV4 { continue }
                endpoints.append(Endpoint(address: a, port: bound.port))
            }
        }
        var seen = Set<Endpoint>()
        node.setLocalEndpoints(endpoints.filter { seen.insert($0).inserted })
    }
}
