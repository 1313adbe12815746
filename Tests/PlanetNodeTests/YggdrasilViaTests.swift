import XCTest
import PlanetCore
import PlanetCapacity
@testable import PlanetNode

/// Yggdrasil through a dual node (Docs/architecture.md, "Yggdrasil through a dual node"): which
/// dual node a Planetary-only node uses, the loop guard, the config option and the announcement.
final class YggdrasilViaTests: XCTestCase {
    let me = RouterHarnessKeys.key(0).publicKey
    let a = RouterHarnessKeys.key(1).publicKey
    let b = RouterHarnessKeys.key(2).publicKey
    let c = RouterHarnessKeys.key(3).publicKey

    func candidates(_ pairs: [(PublicKey, UInt16)]) -> [YggdrasilViaChoice.Candidate] { pairs.map { .init(key: $0.0, metric: $0.1) } }

    // MARK: Choice

    func testAutoPicksTheNearest() {
        XCTAssertEqual(YggdrasilViaChoice.choose(candidates([(a, 300), (b, 100), (c, 200)]), setting: .auto, current: nil, me: me), b)
    }

    func testTiesAreBrokenByKeySoEveryRunPicksTheSame() {
        let one = YggdrasilViaChoice.choose(candidates([(a, 100), (b, 100)]), setting: .auto, current: nil, me: me)
        let other = YggdrasilViaChoice.choose(candidates([(b, 100), (a, 100)]), setting: .auto, current: nil, me: me)
        XCTAssertEqual(one, other)
        XCTAssertEqual(one, a.hex < b.hex ? a : b)
    }

    func testTheCurrentDualNodeStaysWhileReachable() {
        XCTAssertEqual(YggdrasilViaChoice.choose(candidates([(a, 300), (b, 100)]), setting: .auto, current: a, me: me), a,
                       "a nearer candidate must not tear down a working link")
    }

    func testFailsOverWhenTheCurrentDualNodeGoesAway() {
        XCTAssertEqual(YggdrasilViaChoice.choose(candidates([(b, 300), (c, 100)]), setting: .auto, current: a, me: me), c)
        XCTAssertNil(YggdrasilViaChoice.choose([], setting: .auto, current: a, me: me), "no candidate left: no link (no route)")
    }

    func testAFailingDualNodeIsPassedOverWhileAnotherRemains() {
        XCTAssertEqual(YggdrasilViaChoice.choose(candidates([(a, 100), (b, 300)]), setting: .auto, current: a, failing: [a], me: me), b)
        XCTAssertEqual(YggdrasilViaChoice.choose(candidates([(a, 100)]), setting: .auto, current: nil, failing: [a], me: me), a,
                       "the only one is still tried")
    }

    func testNeverItself() {
        XCTAssertEqual(YggdrasilViaChoice.choose(candidates([(me, 0), (a, 500)]), setting: .auto, current: nil, me: me), a)
        XCTAssertNil(YggdrasilViaChoice.choose(candidates([(me, 0)]), setting: .key(me), current: nil, me: me))
    }

    func testExplicitKeyOrAddressOnlyThatNode() {
        let all = candidates([(a, 300), (b, 100)])
        XCTAssertEqual(YggdrasilViaChoice.choose(all, setting: .key(a), current: nil, me: me), a)
        XCTAssertNil(YggdrasilViaChoice.choose(all, setting: .key(c), current: nil, me: me), "unreachable: none, not another")
        XCTAssertEqual(YggdrasilViaChoice.choose(all, setting: .address(OverlayAddress.address(for: a)), current: b, me: me), a)
        XCTAssertNil(YggdrasilViaChoice.choose(all, setting: .off, current: b, me: me))
    }

    // MARK: Loop guard

    func packet(to destination: IPv6Address) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 48)
        p[0] = 0x60
        var w = ByteWriter(capacity: 16)
        w.u64(destination.high); w.u64(destination.low)
        p.replaceSubrange(24..<40, with: w.bytes)
        return p
    }

    func testTheLoopGuardRefusesPacketsToTheOtherEndOfACarriedLink() {
        var g = YggdrasilLoopGuard()
        let dual = OverlayAddress.address(for: a), other = OverlayAddress.address(for: b)
        g.update([dual, IPv6Address("fd00:79::1")!])
        XCTAssertFalse(packet(to: dual).withUnsafeBytes { g.admits($0) }, "the link's own segments must never go into Yggdrasil")
        XCTAssertTrue(packet(to: other).withUnsafeBytes { g.admits($0) })
        XCTAssertEqual(g.refused, 1)
        XCTAssertEqual(g.carriers, [dual], "an underlay endpoint is no overlay destination: not guarded")
        g.update([])
        XCTAssertTrue(packet(to: dual).withUnsafeBytes { g.admits($0) }, "the link gone, the address is an ordinary destination")
    }

    // MARK: Config

    func testTheSettingParses() {
        XCTAssertEqual(YggdrasilViaSetting.parse("auto"), .auto)
        XCTAssertEqual(YggdrasilViaSetting.parse("off"), .off)
        XCTAssertEqual(YggdrasilViaSetting.parse(a.hex), .key(a))
        XCTAssertEqual(YggdrasilViaSetting.parse(OverlayAddress.address(for: a).description), .address(OverlayAddress.address(for: a)))
        XCTAssertNil(YggdrasilViaSetting.parse("fd00::1"), "not an overlay address")
        XCTAssertNil(YggdrasilViaSetting.parse("Auto"))
    }

    func testTheConfigOption() throws {
        XCTAssertEqual(try NodeConfig.parse("{}").yggdrasilVia, .auto, "the default: nothing to configure")
        XCTAssertEqual(try NodeConfig.parse(#"{"yggdrasil": {"via": "off"}}"#).yggdrasilVia, .off)
        XCTAssertThrowsError(try NodeConfig.parse(#"{"yggdrasil": {"via": "nearest"}}"#))
        XCTAssertThrowsError(try NodeConfig.parse(#"{"yggdrasil": {"vai": "off"}}"#))
        let round = try NodeConfig.parse(NodeConfig.parse(#"{"yggdrasil": {"via": "\#(a.hex)"}}"#).json().serialized())
        XCTAssertEqual(round.yggdrasilVia, .key(a))
    }

    // MARK: Announcement

    func testADualNodeWithCapacityOffAnnouncesOnlyTheTag() throws {
        let announcer = CapacityAnnouncer(identity: RouterHarnessKeys.key(0), config: CapacityConfig())
        announcer.measured(CapacityMeasurement(cpus: 8, memoryBytes: 1 << 34, ssdBytes: 1 << 40), unixNow: 1_800_000_000)
        XCTAssertNil(announcer.poll(unixNow: 1_800_000_000, heldSeqno: nil), "capacity off, not serving: nothing")
        announcer.servesYggdrasil = true
        let bytes = try XCTUnwrap(announcer.poll(unixNow: 1_800_000_000, heldSeqno: nil))
        XCTAssertTrue(CapacityRecord.verify(bytes))
        let r = try CapacityRecord.decode(bytes)
        XCTAssertEqual(r.tags, [YggdrasilViaSetting.tag])
        XCTAssertEqual(r.total, .zero, "the machine's hardware is not told")
        XCTAssertNil(r.latitude)
    }

    func testOnlyAServingNodeCarriesTheTag() throws {
        var config = CapacityConfig()
        config.enabled = true
        config.tags = ["gpu", YggdrasilViaSetting.tag]
        let announcer = CapacityAnnouncer(identity: RouterHarnessKeys.key(0), config: config)
        announcer.measured(CapacityMeasurement(cpus: 8, memoryBytes: 1 << 34), unixNow: 1_800_000_000)
        XCTAssertEqual(try CapacityRecord.decode(XCTUnwrap(announcer.poll(unixNow: 1_800_000_000, heldSeqno: nil))).tags, ["gpu"],
                       "a configured tag must not claim what the node does not do")
        announcer.servesYggdrasil = true
        XCTAssertEqual(try CapacityRecord.decode(XCTUnwrap(announcer.poll(unixNow: 1_800_010_000, heldSeqno: nil))).tags,
                       ["gpu", YggdrasilViaSetting.tag])
    }
}
