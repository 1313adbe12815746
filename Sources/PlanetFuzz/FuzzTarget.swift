/// One decoder family under fuzz: a name (the corpus directory under `Fuzz/corpus/`) and a
/// function that feeds it arbitrary bytes. A target must not trap on any input; it may keep
/// state between inputs (a linked pair, a node) as long as that state stays bounded, which is
/// itself part of what the fuzzer checks (AddressSanitizer, libFuzzer's -rss_limit_mb).
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    public init(_ name: String, _ summary: String, run: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

public enum FuzzTargets {
    /// Every target, in the order `Tools/fuzz` runs them.
    public static let all: [FuzzTarget] = [
        LinkFuzzTargets.datagram,
        LinkFuzzTargets.innerFrame,
        NodeFuzzTargets.innerFrame,
        NodeFuzzTargets.tunPacket,
        NodeFuzzTargets.sessionControl,
        RoutingFuzzTargets.message,
        RoutingFuzzTargets.stub,
        DataPlaneFuzzTargets.decoders,
        ConfigFuzzTargets.config,
        ConfigFuzzTargets.yggdrasil,
        ConfigFuzzTargets.admin,
        WebFuzzTargets.request,
        OffloadFuzzTargets.segmenter,
        OffloadFuzzTargets.coalescer,
        CapacityFuzzTargets.message,
        CryptoFuzzTargets.aegis,
        YggdrasilLinkFuzzTargets.stream,
        IronwoodRouterFuzzTargets.frames,
        YggdrasilSessionFuzzTargets.session,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
