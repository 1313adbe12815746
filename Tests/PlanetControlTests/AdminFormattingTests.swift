import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl
import PlanetTesting

final class AdminFormattingTests: XCTestCase {
    func testBytes() throws {
        XCTAssertEqual(HumanUnits.bytes(0), "0 B")
        XCTAssertEqual(HumanUnits.bytes(1023), "1023 B")
        XCTAssertEqual(HumanUnits.bytes(1024), "1.00 KiB")
        XCTAssertEqual(HumanUnits.bytes(1536), "1.50 KiB")
        XCTAssertEqual(HumanUnits.bytes(12.34 * 1048576), "12.3 MiB")
        XCTAssertEqual(HumanUnits.bytes(117 * 1073741824), "117 GiB")
        XCTAssertEqual(HumanUnits.bytes(1048575), "1.00 MiB", "rounding carries into the next unit")
        XCTAssertEqual(HumanUnits.bytes(3 * 1099511627776), "3.00 TiB")
        XCTAssertEqual(HumanUnits.bytes(-1), "-")
    }

    func testDurations() throws {
        XCTAssertEqual(HumanUnits.duration(seconds: 0), "0s")
        XCTAssertEqual(HumanUnits.duration(seconds: 59.9), "59s")
        XCTAssertEqual(HumanUnits.duration(seconds: 192), "3m12s")
        XCTAssertEqual(HumanUnits.duration(seconds: 3600), "1h00m")
        XCTAssertEqual(HumanUnits.duration(seconds: 7500), "2h05m")
        XCTAssertEqual(HumanUnits.duration(seconds: 3 * 86400 + 4 * 3600 + 59), "3d04h")
        XCTAssertEqual(HumanUnits.duration(seconds: .nan), "-")
    }

    func testMillisecondsAndCounts() throws {
        XCTAssertEqual(HumanUnits.milliseconds(0.4242), "0.42 ms")
        XCTAssertEqual(HumanUnits.milliseconds(1.234), "1.23 ms")
        XCTAssertEqual(HumanUnits.milliseconds(12.34), "12.3 ms")
        XCTAssertEqual(HumanUnits.milliseconds(9.999), "10.0 ms")
        XCTAssertEqual(HumanUnits.count(0), "0")
        XCTAssertEqual(HumanUnits.count(999), "999")
        XCTAssertEqual(HumanUnits.count(1_234_567), "1,234,567")
        XCTAssertEqual(HumanUnits.shortKey(String(repeating: "ab", count: 32)), "abababababababab…")
        XCTAssertEqual(HumanUnits.shortKey("abc"), "abc")
    }

    func testTableAlignment() throws {
        var t = TableFormatter([.init("NAME"), .init("SIZE", .right), .init("NOTE")])
        t.append(["a", "1 B", ""])
        t.append(["longer", "10.0 KiB", "x"])
        XCTAssertEqual(t.render(), """
        NAME        SIZE  NOTE
        a            1 B
        longer  10.0 KiB  x

        """)
        XCTAssertEqual(TableFormatter.keyValues([("a", "1"), ("long key", "")]), "a         1\nlong key\n")
    }

    func testPeersTable() throws {
        let out = try AdminReport.table(for: .peers, response: FakeAdminHandler.replies["getPeers"]!)
        XCTAssertEqual(out, """
        KEY                ADDRESS      STATE    DIR      RTT        RX        TX  UPTIME  CIPHER       ENDPOINT            URI
        abababababababab…  200:1234::1  up       out  1.23 ms  1.50 KiB  10.0 MiB   2h05m  aes-256-gcm  192.0.2.1:8470      udp://192.0.2.1:8470
        -                  -            backoff  out        -       0 B       0 B      0s  -            [2001:db8::1]:8470  udp://[2001:db8::1]:8470

        """)
        XCTAssertEqual(try AdminReport.table(for: .peers, response: .object([("peers", .array([]))])).components(separatedBy: "\n").dropFirst().first, "(no peers)")
    }

    func testSelfRoutesSessionsStatsTables() throws {
        XCTAssertEqual(try AdminReport.table(for: .showSelf, response: FakeAdminHandler.replies["getSelf"]!), """
        public key  \(FakeAdminHandler.key)
        address     200:1234::1
        subnet      300:1234::/64
        version     0.1.0
        uptime      3m12s

        """)
        XCTAssertEqual(try AdminReport.table(for: .routes, response: FakeAdminHandler.replies["getRoutes"]!), """
        PREFIX         ADDRESS      KEY                NEXT HOP           METRIC  SEQNO
        300:1234::/64  200:1234::1  abababababababab…  cdcdcdcdcdcdcdcd…      96      7

        """)
        XCTAssertEqual(try AdminReport.table(for: .sessions, response: FakeAdminHandler.replies["getSessions"]!), """
        KEY                ADDRESS            RX     TX  UPTIME  PATH  NEXT HOP
        cdcdcdcdcdcdcdcd…  200:cdcd::1  2.00 KiB  512 B     59s  -     -

        """)
        XCTAssertEqual(try AdminReport.table(for: .stats, response: FakeAdminHandler.replies["getStats"]!), """
        packets in         1,234,567
        packets out        42
        bytes in           1.00 GiB
        bytes out          100 B
        peers up           1
        routes             1
        sessions           1
        handshakes done    5
        handshakes failed  2
        capacity records   0
        drops badMac       3
        drops noRoute      1

        """)
        XCTAssertEqual(try AdminReport.table(for: .addPeer(PeerURI(host: "h", port: 1)), response: .object([])), "added peer udp://h:1\n")
    }

    /// A newer daemon's extra fields are ignored and an older one's missing optional fields
    /// shown as `-` or left out (getSelf without NAT fields above); a reply that does not read
    /// is refused naming the field, never shown as a table of guesses.
    func testRepliesOfOtherVersionsReadOrAreRefusedByName() throws {
        let route: JSONValue = .object([("prefix", .string("300:1::/64")), ("address", .string("200:1::1")), ("publicKey", .string(FakeAdminHandler.key)),
                                        ("nextHop", .null), ("metric", .number(96)), ("seqno", .number(7)), ("colour", .string("red"))])
        let out = try AdminReport.table(for: .routes, response: .object([("routes", .array([route]))]))
        XCTAssertTrue(out.contains("300:1::/64  200:1::1  abababababababab…  -"), out)
        for (reply, field) in [(JSONValue.object([("routes", .array([.object([("metric", .string("x"))])]))]), "routes[0].prefix"),
                               (.object([("routes", .array([route, .null]))]), "routes[1]"), (.null, "expected an object")] {
            XCTAssertThrowsError(try AdminReport.table(for: .routes, response: reply)) { e in
                XCTAssertTrue("\(e)".contains(field), "\(e)")
            }
        }
        XCTAssertThrowsError(try AdminReport.table(for: .stats, response: .object([("rxPackets", .string("many"))])))
    }

    func testJSONOutputIsTheResponseInOrder() throws {
        let out = AdminReport.json(FakeAdminHandler.replies["getSessions"]!)
        XCTAssertEqual(out, """
        {
          "sessions": [
            {
              "publicKey": "\(FakeAdminHandler.otherKey)",
              "address": "200:cdcd::1",
              "rxBytes": 2048,
              "txBytes": 512,
              "uptimeSeconds": 59,
              "cipher": null,
              "path": null,
              "nextHop": null
            }
          ]
        }

        """)
        XCTAssertEqual(try JSONValue.parse(out), FakeAdminHandler.replies["getSessions"])
    }

    func testCommandParsing() throws {
        let h1 = PeerURI(host: "h", port: 1)
        XCTAssertEqual(try PlanetctlCommand.parse(["self"]).get(), .showSelf)
        XCTAssertEqual(try PlanetctlCommand.parse(["peers"]).get(), .peers)
        XCTAssertEqual(try PlanetctlCommand.parse(["peers", "add", "udp://[2001:db8::1]:8470"]).get(), .addPeer(PeerURI(host: "2001:db8::1", port: 8470)))
        XCTAssertEqual(try PlanetctlCommand.parse(["peers", "remove", "udp://h:1"]).get(), .removePeer(h1))
        XCTAssertEqual(PlanetctlCommand.addPeer(h1).request, .addPeer(h1))
        XCTAssertEqual(PlanetctlCommand.addPeer(h1).request.line, "{\"request\":\"addPeer\",\"uri\":\"udp://h:1\"}\n")
        // Yggdrasil links: the request carries the whole URI (password included) to the daemon,
        // which parses it back to the same value.
        let key = String(repeating: "cd", count: 32)
        let ygg = try PlanetctlCommand.parse(["peers", "add", "tls://[2001:db8::2]:443?key=\(key)&password=a%26b&priority=2"]).get()
        guard case .addPeer(let uri) = ygg else { return XCTFail("\(ygg)") }
        XCTAssertEqual(uri.scheme, .tls)
        XCTAssertEqual(uri.password, Array("a&b".utf8))
        XCTAssertEqual(try AdminRequest.decode(String(ygg.request.line.dropLast())).get(), .addPeer(uri))
        XCTAssertEqual(try PlanetctlCommand.parse(["peers", "add", "tcp://h:1"]).get(), .addPeer(PeerURI(scheme: .tcp, host: "h", port: 1)))
        for bad in [[], ["frobnicate"], ["routes", "extra"], ["peers", "add"], ["peers", "add", "quic://h:1"], ["peers", "add", "tcp://h:1?password=\(String(repeating: "p", count: 65))"], ["peers", "add", "udp://h"], ["peers", "kick", "udp://h:1"]] {
            guard case .failure = PlanetctlCommand.parse(bad) else { return XCTFail("\(bad) should be refused") }
        }
        guard case .failure(let e) = PlanetctlCommand.parse(["peers", "add", "udp://2001:db8::1:8470"]) else { return XCTFail() }
        XCTAssertTrue(e.description.hasPrefix("bad peer URI:"), e.description)
    }
}
