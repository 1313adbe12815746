import PlanetCore
import PlanetRouting

/// The data path's memory of recent `Router.route(forAddress:)` answers. A lookup hashes the
/// address tag and then the 32-byte key (~4% of a sender's CPU at line rate), yet routes only
/// change inside the router calls the node makes (routing messages, neighbour events, ticks),
/// and the node clears this cache around each of them. Between those, packets of a flow come
/// in long runs to one or two addresses; a few direct-mapped slots catch them without hashing.
struct RouteCache {
    typealias Route = (destination: PublicKey, nextHop: PublicKey)
    private static let slots = 8
    private var addresses = [IPv6Address?](repeating: nil, count: RouteCache.slots)
    private var routes = [Route?](repeating: nil, count: RouteCache.slots)
    private(set) var hits = 0

    mutating func route(for address: IPv6Address, router: Router) -> Route? {
        let slot = Int(truncatingIfNeeded: (address.low ^ address.high ^ (address.low >> 29)) & UInt64(RouteCache.slots - 1))
        if addresses[slot] == address { hits &+= 1; return routes[slot] }
        // Unreachable answers are not kept: a route appearing must be seen at once.
        guard let route = router.route(forAddress: address) else { return nil }
        addresses[slot] = address
        routes[slot] = route
        return route
    }

    mutating func clear() {
        for i in 0..<RouteCache.slots { addresses[i] = nil }
    }
}
