import XCTest
import Foundation
import PlanetCore
@testable import PlanetRuntime

/// The probe over a fake /proc and /sys tree: what counts as a disk, SSD or HDD, and a GPU.
final class CapacityProbeTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "planet-probe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        let full = root + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func disk(_ name: String, gib: UInt64, rotational: Bool) throws {
        try write("/sys/block/\(name)/size", "\(gib * (1 << 30) / 512)\n")
        try write("/sys/block/\(name)/queue/rotational", rotational ? "1\n" : "0\n")
    }

    func testDisksSplitBySpinningAndSkipViewsOfOtherDevices() throws {
        try disk("nvme0n1", gib: 512, rotational: false)
        try disk("sda", gib: 4096, rotational: true)
        try disk("vda", gib: 20, rotational: false)
        for skipped in ["loop0", "ram0", "zram0", "dm-0", "md127"] { try disk(skipped, gib: 100, rotational: false) }
        let d = CapacityProbe(root: root).disks()
        XCTAssertEqual(d.ssd, 532 << 30)
        XCTAssertEqual(d.hdd, 4096 << 30)
    }

    func testMemoryUptimeAndGPUs() throws {
        try write("/proc/meminfo", "MemTotal:       32768000 kB\nMemFree:         1000 kB\n")
        try write("/proc/uptime", "12345.67 999.0\n")
        try write("/sys/bus/pci/devices/0000:01:00.0/class", "0x030000\n")
        try write("/sys/bus/pci/devices/0000:01:00.0/vendor", "0x10de\n")
        try write("/sys/bus/pci/devices/0000:01:00.0/device", "0x2204\n")
        try write("/sys/bus/pci/devices/0000:00:1f.0/class", "0x060100\n")  // an ISA bridge
        try write("/sys/bus/pci/devices/0000:00:1f.0/vendor", "0x8086\n")
        try write("/sys/bus/pci/devices/0000:00:1f.0/device", "0x1234\n")
        let p = CapacityProbe(root: root)
        XCTAssertEqual(p.memoryBytes(), 32_768_000 * 1024)
        XCTAssertEqual(p.uptimeSeconds(), 12345)
        XCTAssertEqual(p.gpus().map(\.vendor), [0x10de])
        XCTAssertEqual(p.gpus().first?.device, 0x2204)
        XCTAssertEqual(p.gpus().first?.name, "nvidia")
    }

    func testWhichAddressesArePublic() {
        XCTAssertTrue(CapacityProbe.isPublic(ipv4: [8, 8, 8, 8]))
        XCTAssertTrue(CapacityProbe.isPublic(ipv4: [172, 32, 0, 1]))
        for a: [UInt8] in [[10, 0, 0, 1], [172, 16, 0, 1], [192, 168, 1, 1], [100, 64, 0, 1], [100, 127, 255, 1], [127, 0, 0, 1],
                           [169, 254, 1, 1], [224, 0, 0, 1], [0, 0, 0, 0], [192, 0, 2, 5]] {
            XCTAssertFalse(CapacityProbe.isPublic(ipv4: a), "\(a)")
        }
        func v6(_ s: String) -> [UInt8] { IPv6Address(s)!.bytes }
        XCTAssertTrue(CapacityProbe.isPublic(ipv6: v6("2a01:4f8::1")))
        for s in ["fd00::1", "fe80::1", "::1", "200:1234::1", "2001:db8::1", "ff02::1"] {
            XCTAssertFalse(CapacityProbe.isPublic(ipv6: v6(s)), s)
        }
    }

    func testMeasuringThisMachineGivesSomething() {
        let m = CapacityProbe().measure()
        XCTAssertGreaterThan(m.cpus, 0)
        XCTAssertGreaterThan(m.memoryBytes, 0)
    }
}
