import PlanetCore
import PlanetNode

enum DataPlaneFuzzTargets {
    /// The data plane's stand-alone decoders, array and borrowed forms: IPv6 headers, overlay
    /// headers, error reports (signature checked). The node targets reach them in context;
    /// this one reaches them fast.
    static let decoders = FuzzTarget("dataplane", "IPv6 and overlay headers, error reports") { input in
        let bytes = Array(input)
        _ = IPv6Header(bytes)
        _ = IPv6Header(raw: input)
        _ = OverlayPacket.parseHeader(bytes)
        _ = OverlayPacket.parseHeader(raw: input)
        _ = ErrorReport(bytes[...])
    }
}
