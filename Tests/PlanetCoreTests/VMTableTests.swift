import XCTest
@testable import PlanetCore

final class VMTableTests: XCTestCase {
    let subnet = IPv6Prefix("300:1234:5678:9abc::/64")!
    let keyA = String(repeating: "ab", count: 32)
    let keyB = String(repeating: "cd", count: 32)

    func lease(_ name: String, _ address: IPv6Address, interface: String? = nil) -> VMLease {
        VMLease(name: name, address: address, kind: .tap, interface: interface ?? "tap-\(name)", mac: VMTable.mac(for: name))
    }

    // MARK: Addresses

    func testDerivedAddressIsStableInsideTheSubnetAndDiffersPerName() {
        let a1 = VMTable.derivedAddress(name: "web", in: subnet)
        XCTAssertEqual(a1, VMTable.derivedAddress(name: "web", in: subnet))
        XCTAssertTrue(subnet.contains(a1))
        XCTAssertNotEqual(a1, VMTable.derivedAddress(name: "db", in: subnet))
        // Fixed vector: the derivation is a published contract (a VM's address must survive upgrades).
        let h = Sodium.sha512(Array("planetary-vm-address-v1:web".utf8))
        XCTAssertEqual(a1.bytes.suffix(8), h.prefix(8)[...])
        XCTAssertEqual(Array(a1.bytes.prefix(8)), Array(subnet.address.bytes.prefix(8)))
    }

    func testAddressChoiceRefusesOutsideReservedAndTaken() throws {
        var table = VMTable(subnet: subnet)
        XCTAssertEqual(try table.address(for: "web", requested: nil).get(), VMTable.derivedAddress(name: "web", in: subnet))
        let outside = IPv6Address("300:1234:5678:9abd::5")!
        guard case .failure(let e1) = table.address(for: "web", requested: outside) else { return XCTFail("outside accepted") }
        XCTAssertEqual(e1.argument, "address")
        XCTAssertTrue(e1.reason.contains("outside"), e1.reason)
        for r in ["300:1234:5678:9abc::", "300:1234:5678:9abc::1"] {
            guard case .failure(let e) = table.address(for: "web", requested: IPv6Address(r)!) else { return XCTFail("\(r) accepted") }
            XCTAssertTrue(e.reason.contains("reserved"), e.reason)
        }
        let taken = IPv6Address("300:1234:5678:9abc::42")!
        XCTAssertNil(table.add(lease("one", taken)))
        guard case .failure(let e2) = table.address(for: "two", requested: taken) else { return XCTFail("taken address accepted") }
        XCTAssertTrue(e2.reason.contains("taken by VM 'one'"), e2.reason)
        XCTAssertEqual(try table.address(for: "one", requested: taken).get(), taken, "a lease's own address is not a collision with itself")
    }

    func testAddRefusesDuplicateNameInterfaceAndAddress() {
        var table = VMTable(subnet: subnet)
        XCTAssertNil(table.add(lease("one", IPv6Address("300:1234:5678:9abc::42")!)))
        XCTAssertEqual(table.add(lease("one", IPv6Address("300:1234:5678:9abc::43")!))?.argument, "name")
        XCTAssertEqual(table.add(lease("two", IPv6Address("300:1234:5678:9abc::43")!, interface: "tap-one"))?.argument, "interface")
        XCTAssertEqual(table.add(lease("two", IPv6Address("300:1234:5678:9abc::42")!))?.argument, "address")
        XCTAssertNil(table.add(lease("two", IPv6Address("300:1234:5678:9abc::43")!)))
        XCTAssertEqual(table.leases.map(\.name), ["one", "two"])
        XCTAssertEqual(table.lease(for: IPv6Address("300:1234:5678:9abc::43")!)?.name, "two")
        XCTAssertEqual(table.remove(named: "one")?.name, "one")
        XCTAssertNil(table.lease(named: "one"))
        XCTAssertNil(table.add(lease("three", IPv6Address("300:1234:5678:9abc::42")!)), "a detached VM's address is free again")
    }

    func testNames() {
        for good in ["a", "web-1", "db.prod", "X_9", String(repeating: "n", count: 32)] { XCTAssertNil(VMTable.checkName(good), good) }
        for bad in ["", "-x", ".x", "a b", "a/b", "é", String(repeating: "n", count: 33)] {
            XCTAssertEqual(VMTable.checkName(bad)?.argument, "name", bad)
        }
    }

    func testMacAndVethNamesAreStableAndWellFormed() {
        let mac = VMTable.mac(for: "web")
        XCTAssertEqual(mac, VMTable.mac(for: "web"))
        XCTAssertNotEqual(mac, VMTable.mac(for: "db"))
        XCTAssertTrue(mac.hasPrefix("02:"))
        XCTAssertEqual(mac.split(separator: ":").count, 6)
        XCTAssertTrue(mac.split(separator: ":").allSatisfy { $0.count == 2 })
        let veth = VMTable.vethName(for: String(repeating: "n", count: 32))
        XCTAssertLessThanOrEqual(veth.utf8.count, 15)
        XCTAssertNotEqual(VMTable.vethName(for: "a"), VMTable.vethName(for: "b"))
    }

    func testLeasesRoundTripThroughTheirFileAndTotalsAddUp() throws {
        var table = VMTable(subnet: subnet)
        var l1 = lease("one", IPv6Address("300:1234:5678:9abc::42")!)
        l1.cpu = 2; l1.memoryBytes = 1 << 30; l1.diskBytes = 10 << 30; l1.owner = "qemu"
        l1.policy = try VMPolicy.parse(["key:\(keyA),tcp:22", "udp:53"]).get()
        var l2 = VMLease(name: "two", address: IPv6Address("300:1234:5678:9abc::43")!, kind: .netns, interface: VMTable.vethName(for: "two"),
                         netns: "ctr", mac: VMTable.mac(for: "two"))
        l2.cpu = 1
        XCTAssertNil(table.add(l1))
        XCTAssertNil(table.add(l2))
        let text = table.json.serialized()
        let back = try VMTable(subnet: subnet, json: JSONValue.parse(text))
        XCTAssertEqual(back.leases, table.leases)
        let t = back.declaredTotals
        XCTAssertEqual(t.cpu, 3)
        XCTAssertEqual(t.memoryBytes, 1 << 30)
        XCTAssertEqual(t.diskBytes, 10 << 30)
        // A lease file from another subnet (a changed key) is refused, naming the lease.
        XCTAssertThrowsError(try VMTable(subnet: IPv6Prefix("300:1:2:3::/64")!, json: JSONValue.parse(text))) { e in
            XCTAssertTrue("\(e)".contains("vms[0] (one)"), "\(e)")
        }
    }

    // MARK: Resources

    func testSizesAndCPUs() {
        XCTAssertEqual(try VMResources.size("512M", argument: "memory").get(), 512 << 20)
        XCTAssertEqual(try VMResources.size("20G", argument: "disk").get(), 20 << 30)
        XCTAssertEqual(try VMResources.size("4096", argument: "disk").get(), 4096)
        XCTAssertEqual(try VMResources.size("1GiB", argument: "disk").get(), 1 << 30)
        for bad in ["", "0", "12Q", "G", "-1G", "1.5G"] {
            guard case .failure(let e) = VMResources.size(bad, argument: "memory") else { return XCTFail("\(bad) accepted") }
            XCTAssertEqual(e.argument, "memory")
        }
        XCTAssertEqual(try VMResources.cpu("4").get(), 4)
        for bad in ["0", "x", "1025"] { XCTAssertNil(try? VMResources.cpu(bad).get(), bad) }
    }

    // MARK: Policy

    func testRuleParsing() throws {
        XCTAssertEqual(try VMRule.parse("any").get(), .any)
        XCTAssertEqual(try VMRule.parse("tcp:22").get(), VMRule(transport: .tcp, port: 22))
        XCTAssertEqual(try VMRule.parse("udp:53").get(), VMRule(transport: .udp, port: 53))
        let k = PublicKey(hex: keyA)!
        XCTAssertEqual(try VMRule.parse("key:\(keyA)").get(), VMRule(key: k))
        XCTAssertEqual(try VMRule.parse("key:\(keyA),tcp:22").get(), VMRule(key: k, transport: .tcp, port: 22))
        XCTAssertEqual(try VMRule.parse("tcp:22,key:\(keyA.uppercased())").get(), VMRule(key: k, transport: .tcp, port: 22))
        XCTAssertEqual(try VMRule.parse("key:\(keyA),tcp:22").get().description, "key:\(keyA),tcp:22")
        let bad = ["", "all", "tcp", "tcp:0", "tcp:65536", "tcp:x", "icmp:1", "key:abcd", "key:\(keyA)00", "key:\(keyA),key:\(keyB)",
                   "tcp:22,udp:53", "any,tcp:22", "tcp:22,"]
        for b in bad {
            guard case .failure(let e) = VMRule.parse(b) else { return XCTFail("'\(b)' accepted") }
            XCTAssertFalse(e.description.isEmpty)
        }
    }

    func testPolicyMatching() throws {
        let a = PublicKey(hex: keyA)!, b = PublicKey(hex: keyB)!
        let tcp: UInt8 = 6, udp: UInt8 = 17, icmp: UInt8 = 58
        XCTAssertTrue(VMPolicy.any.allows(sender: a, nextHeader: tcp, destinationPort: 1))
        XCTAssertTrue(try VMPolicy.parse([]).get().allowsAll, "no --allow is any, as today")

        let onlyA = try VMPolicy.parse(["key:\(keyA)"]).get()
        XCTAssertTrue(onlyA.allows(sender: a, nextHeader: tcp, destinationPort: 80))
        XCTAssertTrue(onlyA.allows(sender: a, nextHeader: icmp, destinationPort: nil), "key-only rules let that key ping")
        XCTAssertFalse(onlyA.allows(sender: b, nextHeader: tcp, destinationPort: 80))
        XCTAssertFalse(onlyA.allows(sender: b, nextHeader: icmp, destinationPort: nil))

        let ssh = try VMPolicy.parse(["tcp:22"]).get()
        XCTAssertTrue(ssh.allows(sender: b, nextHeader: tcp, destinationPort: 22))
        XCTAssertFalse(ssh.allows(sender: b, nextHeader: tcp, destinationPort: 23))
        XCTAssertFalse(ssh.allows(sender: b, nextHeader: udp, destinationPort: 22), "tcp:22 is not udp:22")
        XCTAssertFalse(ssh.allows(sender: b, nextHeader: icmp, destinationPort: nil), "a port rule does not let pings through")
        XCTAssertFalse(ssh.allows(sender: b, nextHeader: 44, destinationPort: nil), "a fragment has no port to match")

        let combined = try VMPolicy.parse(["key:\(keyA),tcp:22", "udp:53"]).get()
        XCTAssertTrue(combined.allows(sender: a, nextHeader: tcp, destinationPort: 22))
        XCTAssertFalse(combined.allows(sender: b, nextHeader: tcp, destinationPort: 22), "the key part binds the port part")
        XCTAssertFalse(combined.allows(sender: a, nextHeader: tcp, destinationPort: 80))
        XCTAssertTrue(combined.allows(sender: b, nextHeader: udp, destinationPort: 53), "rules add up")
        XCTAssertEqual(combined.texts, ["key:\(keyA),tcp:22", "udp:53"])

        XCTAssertTrue(try VMPolicy.parse(["tcp:22", "any"]).get().allowsAll, "any swallows the rest")
        guard case .failure = VMPolicy.parse(["tcp:22", "bogus"]) else { return XCTFail("a bad second rule accepted") }
    }

    // MARK: cloud-init

    func testCloudInitNetworkConfig() {
        let l = lease("web", IPv6Address("300:1234:5678:9abc::42")!)
        let doc = VMCloudInit.networkConfig(for: l, mtu: 1360)
        let lines = doc.split(separator: "\n").map { String($0) }
        XCTAssertTrue(lines.contains("version: 2"))
        XCTAssertTrue(lines.contains("      macaddress: \"\(l.mac)\""))
        XCTAssertTrue(lines.contains("    mtu: 1360"))
        XCTAssertTrue(lines.contains("      - \"300:1234:5678:9abc::42/128\""))
        XCTAssertTrue(lines.contains("      - to: \"200::/7\""))
        XCTAssertTrue(lines.contains("      - to: \"300::/8\""))
        XCTAssertEqual(lines.filter { $0 == "        via: \"fe80::1\"" }.count, 2)
        XCTAssertFalse(doc.contains("::/0"), "no default route through the overlay")
        XCTAssertFalse(doc.contains("default"))
        XCTAssertFalse(doc.contains("gateway6"))
        XCTAssertFalse(doc.contains("\t"), "YAML takes no tabs")
    }
}
