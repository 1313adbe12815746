import XCTest
import Foundation
import PlanetCore
@testable import PlanetRuntime

final class IOTunDeviceTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot() && FileManager.default.fileExists(atPath: "/dev/net/tun"), "TUN tests need root and /dev/net/tun")
    }

    private func waitReadable(_ fd: Int32, milliseconds: Int32 = 30_000) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) == 1
    }

    /// Reads packets until one is an ICMPv6 echo request to `target`, skipping the MLD/RS
    /// chatter a new interface emits. Nil when none comes (bounded by poll timeouts).
    private func readEchoRequest(_ tun: TunDevice, to target: IPv6Address) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2000)
        for _ in 0..<50 {
            guard waitReadable(tun.fd) else { return nil }
            let n = buffer.withUnsafeMutableBytes { tun.read(into: $0) }
            guard n >= 48 else { continue }
            let packet = Array(buffer[0..<n])
            let dst = packet.withUnsafeBytes { IPv6Address($0, at: 24) }
            if packet[0] >> 4 == 6, packet[6] == 58, packet[40] == 128, dst == target { return packet }
        }
        return nil
    }

    private func icmpv6Checksum(_ packet: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        func add(_ bytes: ArraySlice<UInt8>) {
            var i = bytes.startIndex
            while i < bytes.endIndex {
                let hi = UInt32(bytes[i]), lo = i + 1 < bytes.endIndex ? UInt32(bytes[i + 1]) : 0
                sum += hi << 8 | lo
                i += 2
            }
        }
        let length = packet.count - 40
        add(packet[8..<40])
        add([0, 0, UInt8(length >> 8), UInt8(length & 0xff), 0, 0, 0, 58][...])
        add(packet[40...])
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// Pings `target` (routed into the TUN), reads the echo request from the TUN and
    /// writes an echo reply back; ping exiting 0 proves both directions.
    ///
    /// The ping is routed to this TUN by a /128 route, not only by the 200::/7 the address
    /// brings: any other live TUN in the namespace with an overlay address (a planetd, another
    /// developer's run of these tests) has a 200::/7 of its own, and the kernel sent the ping
    /// to whichever it found first, so the test failed whenever the machine was busy with
    /// such runs. The waits are generous deadlines that only run out when something is broken:
    /// ping exits at the reply, and the read returns at the request.
    private func answerPing(through tun: TunDevice, to target: IPv6Address) throws {
        // A ping to another overlay address is routed into the TUN; answering it by
        // writing an echo reply back proves the write path too.
        try tun.addRoute(IPv6Prefix(address: target, length: 128))
        let ping = Process()
        ping.executableURL = URL(fileURLWithPath: "/usr/bin/ping")
        ping.arguments = ["-6", "-c1", "-W30", "\(target)"]
        ping.standardOutput = FileHandle.nullDevice
        ping.standardError = FileHandle.nullDevice
        try ping.run()
        let request = readEchoRequest(tun, to: target)
        XCTAssertNotNil(request)
        if var reply = request {
            let src = Array(reply[8..<24])
            reply.replaceSubrange(8..<24, with: reply[24..<40])
            reply.replaceSubrange(24..<40, with: src)
            reply[40] = 129
            reply[42] = 0
            reply[43] = 0
            let c = icmpv6Checksum(reply)
            reply[42] = UInt8(c >> 8)
            reply[43] = UInt8(c & 0xff)
            XCTAssertTrue(tun.write(reply))
        }
        ping.waitUntilExit()
        XCTAssertEqual(ping.terminationStatus, 0, "ping should have seen the reply written to the TUN")

    }

    func testConfigureRoutesPingAndRemoveOnClose() throws {
        let name = randomInterfaceName("ptst")
        let tun = try TunDevice(name: name)
        XCTAssertEqual(tun.name, name)
        XCTAssertGreaterThan(tun.interfaceIndex, 0)
        let tag = UInt64.random(in: 1..<0xffff)
        let mine = IPv6Address(high: 0x0200_0000_0000_0000 | tag << 32, low: 1)
        try tun.configure(address: mine, mtu: 1380)
        XCTAssertEqual(tun.mtu, 1380)
        XCTAssertEqual(NetworkInterface.index(of: name), tun.interfaceIndex)

        let addr = ip("-6", "addr", "show", "dev", name)
        XCTAssertTrue(addr.output.contains("inet6 \(mine)/7"), addr.output)
        let routes = ip("-6", "route", "show", "dev", name)
        XCTAssertTrue(routes.output.contains("200::/7"), routes.output)
        XCTAssertTrue(routes.output.contains("300::/8"), routes.output)
        let link = ip("link", "show", "dev", name)
        XCTAssertTrue(link.output.contains("mtu 1380"), link.output)
        XCTAssertTrue(link.output.contains(",UP"), link.output)

        // The kernel answers its own address locally.
        XCTAssertEqual(runCommand("/usr/bin/ping", ["-6", "-c1", "-W30", "\(mine)"]).status, 0)

        try answerPing(through: tun, to: IPv6Address(high: mine.high, low: 2))

        tun.close()
        XCTAssertNotEqual(ip("link", "show", "dev", name).status, 0, "interface must vanish when the fd closes")
        XCTAssertNil(NetworkInterface.index(of: name))
    }

    func testNameTemplateAndExtraRouteRemoval() throws {
        let tun = try TunDevice(name: "ptst%d")
        defer { tun.close() }
        XCTAssertTrue(tun.name.hasPrefix("ptst"))
        XCTAssertFalse(tun.name.contains("%"))
        try tun.up()
        let prefix = IPv6Prefix("3ff:1234::/32")!
        try tun.addRoute(prefix)
        XCTAssertTrue(ip("-6", "route", "show", "dev", tun.name).output.contains("3ff:1234::/32"))
        try tun.removeRoute(prefix)
        XCTAssertFalse(ip("-6", "route", "show", "dev", tun.name).output.contains("3ff:1234::/32"))
    }

    func testEmptyReadReturnsZeroAndPacketReadIsEmpty() throws {
        let tun = try TunDevice(name: randomInterfaceName("ptst"))
        defer { tun.close() }
        var buffer = [UInt8](repeating: 0, count: 1500)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { tun.read(into: $0) }, 0)
        XCTAssertEqual(tun.readPackets(maxReads: 4) { _, _ in XCTFail("no packet is waiting") }, 0)
        XCTAssertEqual(tun.readErrors, 0)
    }

    func testVnetHeaderDeviceStripsAndPrependsHeader() throws {
        let tun = try TunDevice(name: randomInterfaceName("ptst"), vnetHeader: true)
        defer { tun.close() }
        XCTAssertEqual(tun.headerLength, TunDevice.virtioHeaderLength)
        let mine = IPv6Address(high: 0x0200_0000_0000_0000 | UInt64.random(in: 1..<0xffff) << 32, low: 1)
        try tun.configure(address: mine, mtu: 1400)
        try answerPing(through: tun, to: IPv6Address(high: mine.high, low: 3))
    }

    func testDuplicateAddressIsAnError() throws {
        let tun = try TunDevice(name: randomInterfaceName("ptst"))
        defer { tun.close() }
        let a = IPv6Address("200:abcd::1")!
        try tun.addAddress(a, prefixLength: 7)
        XCTAssertThrowsError(try tun.addAddress(a, prefixLength: 7))
    }
}
