import XCTest
@testable import PlanetCore

final class ConfigTests: XCTestCase {
    func error(_ text: String) -> ConfigError? {
        do { _ = try NodeConfig.parse(text); return nil } catch { return error }
    }

    func testDefaultsRoundTrip() throws {
        var c = NodeConfig()
        c.privateKey = NodeIdentity.generate()
        c.peers = [PeerURI(host: "::1", port: 1, pinnedKey: c.privateKey!.publicKey), PeerURI(host: "example.org", port: 9)]
        let text = c.json().serialized(pretty: true)
        let back = try NodeConfig.parse(text)
        XCTAssertEqual(back.privateKey?.publicKey, c.privateKey?.publicKey)
        XCTAssertEqual(back.peers, c.peers)
        XCTAssertEqual(back.listen, c.listen)
        XCTAssertEqual(back.tun, c.tun)
        XCTAssertEqual(back.json(), c.json())
        // every documented key is written
        XCTAssertEqual(c.json().objectValue?.map(\.0), NodeConfig.keys)
    }

    /// `yggdrasil.nodeInfo`: any object, kept in order, written back; not an object, an unknown
    /// key or more than Yggdrasil's 16384 bytes is refused naming the field.
    func testYggdrasilNodeInfo() throws {
        let c = try NodeConfig.parse(#"{"yggdrasil": {"nodeInfo": {"name": "lab-7", "rack": 3, "tags": ["a"]}}}"#)
        XCTAssertEqual(c.yggdrasilNodeInfo.map(\.0), ["name", "rack", "tags"])
        XCTAssertEqual(c.yggdrasilNodeInfo.first?.1, .string("lab-7"))
        XCTAssertEqual(try NodeConfig.parse(c.json().serialized()).json(), c.json())
        XCTAssertEqual(error(#"{"yggdrasil": {"nodeInfo": "x"}}"#)?.field, "yggdrasil.nodeInfo")
        XCTAssertEqual(error(#"{"yggdrasil": {"nodeinfo": {}}}"#)?.field, "yggdrasil.nodeinfo")
        XCTAssertEqual(error(#"{"yggdrasil": []}"#)?.field, "yggdrasil")
        let big = String(repeating: "x", count: NodeConfig.maximumNodeInfoBytes)
        XCTAssertEqual(error(#"{"yggdrasil": {"nodeInfo": {"big": "\#(big)"}}}"#)?.field, "yggdrasil.nodeInfo")
    }

    /// genconf's promise: every key, sub-keys too, and the file loads back as the same config.
    /// Defaults that mean "not set" (offer: all measured; reserved: the documented reserve; no
    /// coordinates) are written as null, which the loader reads as absent.
    func testGenconfWritesEverySubKeyAndLoadsBack() throws {
        let written = NodeConfig().json()
        let sections: [(String, [String])] = [("tun", NodeConfig.tunKeys), ("nat", NodeConfig.natKeys), ("capacity", CapacityConfig.keys),
                                              ("yggdrasil", NodeConfig.yggdrasilKeys), ("routing", RoutingConfig.keys)]
        for (name, keys) in sections { XCTAssertEqual(written[name]?.objectValue?.map(\.0), keys, name) }
        let capacity = try XCTUnwrap(written["capacity"])
        XCTAssertEqual(capacity["farm"]?.objectValue?.map(\.0), CapacityConfig.farmKeys)
        XCTAssertEqual(capacity["location"]?.objectValue?.map(\.0), CapacityConfig.locationKeys)
        for amounts in ["offer", "reserved"] {
            XCTAssertEqual(capacity[amounts]?.objectValue?.map(\.0), CapacityConfig.amountKeys, amounts)
            XCTAssertEqual(capacity[amounts]?.objectValue?.map(\.1), [.null, .null, .null, .null], amounts)
        }
        XCTAssertEqual(capacity["location"]?["latitude"], .null)
        let back = try NodeConfig.parse(written.serialized(pretty: true))
        XCTAssertEqual(back.capacity, CapacityConfig())
        XCTAssertEqual(back.json(), written)
        // Set values are written as values and read back the same.
        var set = NodeConfig()
        set.capacity.latitude = 51.05
        set.capacity.longitude = 3.72
        set.capacity.offer = CapacityConfig.Amounts(cru: 4, mru: 16 << 30)
        set.capacity.reserved = CapacityConfig.Amounts(hru: 1 << 40)
        XCTAssertEqual(set.json()["capacity"]?["offer"], .object([("cru", .number(4)), ("mru", .string("16G")), ("sru", .null), ("hru", .null)]))
        XCTAssertEqual(try NodeConfig.parse(set.json().serialized()).capacity, set.capacity)
        // null stays a refusal where it means nothing.
        XCTAssertEqual(error(#"{"capacity": {"location": {"latitude": null, "longitude": 4}}}"#)?.field, "capacity.location.latitude")
        XCTAssertEqual(error(#"{"capacity": {"offer": {"gpu": null}}}"#)?.field, "capacity.offer.gpu")
    }

    func testEmptyObjectIsAllDefaults() throws {
        let c = try NodeConfig.parse("{}")
        XCTAssertNil(c.privateKey)
        XCTAssertEqual(c.listen.first?.port, NodeConfig.defaultPort)
        XCTAssertFalse([9650, 9651, 9943, 9944, 9945, 51820].contains(Int(NodeConfig.defaultPort)))
    }

    func testTypoInKeyNamesFieldAndSuggests() {
        let e = error(#"{"peer": []}"#)
        XCTAssertEqual(e?.field, "peer")
        XCTAssertTrue(e?.description.contains("did you mean 'peers'") ?? false, e?.description ?? "")
        XCTAssertEqual(error(#"{"tun": {"mtuu": 1400}}"#)?.field, "tun.mtuu")
    }

    func testBadPort() {
        let e = error(#"{"peers": ["udp://[::1]:notaport"]}"#)
        XCTAssertEqual(e?.field, "peers[0]")
        XCTAssertTrue(e?.reason.contains("port 'notaport'") ?? false)
        XCTAssertEqual(error(#"{"listen": ["udp://0.0.0.0:70000"]}"#)?.field, "listen[0]")
        XCTAssertEqual(error(#"{"peers": ["quic://1.2.3.4:5"]}"#)?.reason.contains("scheme 'quic'"), true)
        XCTAssertEqual(error(#"{"peers": ["udp://::1:5"]}"#)?.reason.contains("brackets"), true)
        XCTAssertEqual(error(#"{"peers": ["udp://[::1]:5?key=abcd"]}"#)?.reason.contains("32 bytes"), true)
        XCTAssertEqual(error(#"{"listen": ["udp://[::]:5?key=00"]}"#)?.field, "listen[0]")
    }

    /// yggdrasil's URI forms (src/core/link.go `links.add`/`links.listen`): tcp:// and tls:// with
    /// ?key= (repeatable), ?password= (percent-decoded, at most 64 bytes), ?priority=, and the
    /// errors naming the field.
    func testYggdrasilURIs() throws {
        let key = String(repeating: "ab", count: 32)
        let c = try NodeConfig.parse(#"{"peers": ["tcp://[2001:db8::1]:9001?key=\#(key)&password=s%40cret+x&priority=3", "tls://example.org:443?maxbackoff=5m&sni=peer.example.org"], "listen": ["udp://[::]:8471", "tcp://[::]:9001?password=p", "tls://0.0.0.0:9002?priority=7"]}"#)
        XCTAssertEqual(c.peers.map(\.scheme), [.tcp, .tls])
        XCTAssertEqual(c.peers[0].host, "2001:db8::1")
        XCTAssertEqual(c.peers[0].port, 9001)
        XCTAssertEqual(c.peers[0].pinnedKeys.map(\.hex), [key])
        XCTAssertEqual(c.peers[0].password, Array("s@cret x".utf8))
        XCTAssertEqual(c.peers[0].priority, 3)
        XCTAssertFalse(c.peers[0].redactedDescription.contains("cret"))
        XCTAssertEqual(c.peers[1].maxBackoff, 300)
        XCTAssertEqual(c.peers[1].sni, "peer.example.org")
        XCTAssertEqual(c.listen.map(\.scheme), [.udp, .tcp, .tls])
        XCTAssertEqual(c.listen[1].password, Array("p".utf8))
        XCTAssertEqual(c.listen[2].priority, 7)
        // Every URI reads back as itself from its description (the config file round trip).
        for uri in c.peers + c.listen {
            XCTAssertEqual(try PeerURI.parse(uri.description, allowKey: true).get(), uri, uri.description)
        }
        let long = String(repeating: "x", count: 65)
        XCTAssertEqual(error(#"{"peers": ["tcp://1.2.3.4:5?password=\#(long)"]}"#)?.reason.contains("at most 64"), true)
        XCTAssertEqual(error(#"{"peers": ["tcp://1.2.3.4:5?priority=256"]}"#)?.field, "peers[0]")
        XCTAssertEqual(error(#"{"peers": ["tls://1.2.3.4:5?pasword=x"]}"#)?.reason.contains("unknown query parameter 'pasword'"), true)
        XCTAssertEqual(error(#"{"peers": ["tls://1.2.3.4:5?maxbackoff=10s"]}"#)?.reason.contains("at least 30s"), true)
        XCTAssertEqual(error(#"{"listen": ["tcp://[::]:5?key=\#(key)"]}"#)?.field, "listen[0]")
        XCTAssertEqual(error(#"{"peers": ["udp://1.2.3.4:5?password=x"]}"#)?.reason.contains("udp:// takes key=HEX"), true)
        XCTAssertEqual(error(#"{"peers": ["tcp://1.2.3.4:5?password=%zz"]}"#)?.reason.contains("%-escape"), true)
    }

    func testShortKey() {
        let id = NodeIdentity.generate()
        let e = error("{\"privateKey\": \"\(id.privateKeyHex.dropLast(2))\"}")
        XCTAssertEqual(e?.field, "privateKey")
        XCTAssertTrue(e?.reason.contains("got 63 bytes") ?? false, e?.reason ?? "")
    }

    func testWrongTypes() {
        XCTAssertEqual(error(#"{"peers": "udp://1.2.3.4:5"}"#)?.reason, "must be a list of strings, got string")
        XCTAssertEqual(error(#"{"tun": {"mtu": "1400"}}"#)?.field, "tun.mtu")
        XCTAssertEqual(error(#"{"tun": {"mtu": 500}}"#)?.field, "tun.mtu")
        XCTAssertEqual(error(#"{"tun": {"enabled": 1}}"#)?.field, "tun.enabled")
        XCTAssertEqual(error(#"{"logLevel": "loud"}"#)?.field, "logLevel")
        XCTAssertEqual(error(#"{"multicast": ["("]}"#)?.field, "multicast[0]")
        XCTAssertEqual(error(#"{"stateDir": "relative"}"#)?.field, "stateDir")
        XCTAssertEqual(error(#"{"nat": true}"#)?.field, "nat")
        XCTAssertEqual(error(#"{"nat": {"punch": "no"}}"#)?.field, "nat.punch")
        XCTAssertEqual(error(#"{"nat": {"punsh": false}}"#)?.reason, "unknown key (did you mean 'punch'?)")
    }

    /// The explorer page is on by default, on loopback; empty turns it off; an address that is
    /// not HOST:PORT is refused naming the field, as metricsListen is.
    func testWebListen() throws {
        XCTAssertEqual(try NodeConfig.parse("{}").webListen, "[::1]:8472")
        XCTAssertEqual(try NodeConfig.parse(#"{"webListen": ""}"#).webListen, "")
        XCTAssertEqual(try NodeConfig.parse(#"{"webListen": "127.0.0.1:9000"}"#).webListen, "127.0.0.1:9000")
        XCTAssertEqual(error(#"{"webListen": "::1:8472"}"#)?.field, "webListen")
        XCTAssertEqual(error(#"{"webListen": "[::1]"}"#)?.field, "webListen")
        XCTAssertEqual(error(#"{"webListen": 8472}"#)?.reason, "must be a string, got number")
        XCTAssertEqual(error(#"{"metricsListen": "[::1]"}"#)?.field, "metricsListen")
    }

    func testNATPunchSwitch() throws {
        XCTAssertTrue(try NodeConfig.parse("{}").nat.punch, "punching is on by default")
        XCTAssertFalse(try NodeConfig.parse(#"{"nat": {"punch": false}}"#).nat.punch)
        var c = NodeConfig()
        c.nat.punch = false
        XCTAssertFalse(try NodeConfig.parse(c.json().serialized(pretty: true)).nat.punch, "genconf output loses nat.punch")
    }

    func testHJSONIsNotAConfigButIsReadAsYggdrasil() throws {
        let id = NodeIdentity.generate()
        let hjson = """
        {
          # comment
          Peers: []
          PrivateKey: \(id.privateKeyHex)
          IfName: auto
        }
        """
        XCTAssertNotNil(error(hjson))
        XCTAssertEqual(try YggdrasilConfig.privateKey(fromConfigText: hjson).publicKey, id.publicKey)
        let json = "{\"PrivateKey\": \"\(id.privateKeyHex)\", \"Peers\": []}"
        XCTAssertEqual(try YggdrasilConfig.privateKey(fromConfigText: json).publicKey, id.publicKey)
        XCTAssertThrowsError(try YggdrasilConfig.privateKey(fromConfigText: "{ Peers: [] }"))
    }

    func testJSONParserRejectsGarbage() {
        for bad in ["{", "{\"a\":}", "[1,]", "{\"a\":1,\"a\":2}", "nul", "\"\\x\"", String(repeating: "[", count: 100)] {
            XCTAssertThrowsError(try JSONValue.parse(bad), bad)
        }
        XCTAssertEqual(try JSONValue.parse(#"{"a":[1,true,null,"\u00e9"]}"#)["a"], .array([.number(1), .bool(true), .null, .string("é")]))
    }

    func testCapacitySectionParsesAndRoundTrips() throws {
        let c = try NodeConfig.parse(#"""
        {"capacity": {"enabled": true, "farm": {"id": 42, "name": "freefarm"},
                      "location": {"country": "be", "city": "Ghent", "latitude": 51.05, "longitude": 3.72},
                      "offer": {"cru": 4, "mru": "16G", "sru": 1000}, "reserved": {"mru": "1G"},
                      "tags": ["gpu-lab"], "announceInterval": "10m", "maxRecords": 500}}
        """#)
        XCTAssertTrue(c.capacity.enabled)
        XCTAssertEqual(c.capacity.country, "BE")
        XCTAssertEqual(c.capacity.farmId, 42)
        XCTAssertEqual(c.capacity.offer, CapacityConfig.Amounts(cru: 4, mru: 16 << 30, sru: 1000))
        XCTAssertEqual(c.capacity.reserved.mru, 1 << 30)
        XCTAssertEqual(c.capacity.announceInterval, 600)
        XCTAssertEqual(c.capacity.effectiveExpiry, 1800)
        XCTAssertEqual(try NodeConfig.parse(c.json().serialized()).capacity, c.capacity)
        let defaults = try NodeConfig.parse("{}").capacity
        XCTAssertFalse(defaults.enabled, "a node must not announce unless asked")
        XCTAssertEqual(defaults.announceInterval, 1800)
        XCTAssertEqual(defaults.effectiveExpiry, 5400)
        XCTAssertEqual(defaults.maxRecords, 100_000)
    }

    func testBadCapacityValuesNameTheField() {
        let cases: [(String, String)] = [
            (#"{"capacity": {"enabled": "yes"}}"#, "capacity.enabled"),
            (#"{"capacity": {"location": {"country": "Belgium"}}}"#, "capacity.location.country"),
            (#"{"capacity": {"location": {"latitude": 95, "longitude": 0}}}"#, "capacity.location.latitude"),
            (#"{"capacity": {"location": {"latitude": 50}}}"#, "capacity.location.longitude"),
            (#"{"capacity": {"offer": {"mru": "lots"}}}"#, "capacity.offer.mru"),
            (#"{"capacity": {"offer": {"gpu": 1}}}"#, "capacity.offer.gpu"),
            (#"{"capacity": {"reserved": {"cru": -1}}}"#, "capacity.reserved.cru"),
            (#"{"capacity": {"tags": ["a", ""]}}"#, "capacity.tags[1]"),
            (#"{"capacity": {"tags": ["1","2","3","4","5","6","7","8","9"]}}"#, "capacity.tags"),
            (#"{"capacity": {"announceInterval": 1}}"#, "capacity.announceInterval"),
            (#"{"capacity": {"announceInterval": "soon"}}"#, "capacity.announceInterval"),
            (#"{"capacity": {"announceInterval": 60, "expiry": 30}}"#, "capacity.expiry"),
            (#"{"capacity": {"maxRecords": 0}}"#, "capacity.maxRecords"),
            (#"{"capacity": {"farm": {"id": "x"}}}"#, "capacity.farm.id"),
            (#"{"capacity": {"farm": {"name": "\#(String(repeating: "x", count: 65))"}}}"#, "capacity.farm.name"),
            (#"{"capacity": {"enabeld": true}}"#, "capacity.enabeld"),
            (#"{"capacity": []}"#, "capacity"),
        ]
        for (text, field) in cases { XCTAssertEqual(error(text)?.field, field, text) }
        XCTAssertTrue(error(#"{"capacity": {"enabeld": true}}"#)?.description.contains("did you mean 'enabled'") ?? false)
    }

    /// A high surrogate followed by an escape that is not a low surrogate is U+FFFD, and the
    /// next escape is read on its own. Combining them trapped on an underflow: a config file or
    /// one admin request line could stop planetd (the config fuzzer's first finding; the input
    /// is kept in Fuzz/corpus/config/ too).
    func testLoneHighSurrogatesBecomeReplacementCharacters() throws {
        XCTAssertEqual(try JSONValue.parse(#"{":Xe\ud894Xe\ud894\ud894":1}"#), .object([(":Xe\u{fffd}Xe\u{fffd}\u{fffd}", .number(1))]))
        XCTAssertEqual(try JSONValue.parse(#""\ud83d\ude00""#), .string("\u{1f600}"), "a real pair still combines")
        XCTAssertEqual(try JSONValue.parse(#""\ud83d\u0041""#), .string("\u{fffd}A"))
        XCTAssertThrowsError(try JSONValue.parse(#""\ud83d\uZZZZ""#))
    }
}

final class RoutingConfigTests: XCTestCase {
    func testStubSettingParsesAndNamesTheFieldWhenWrong() throws {
        XCTAssertEqual(try NodeConfig.parse("{}").routing.stub, .off)
        XCTAssertEqual(try NodeConfig.parse(#"{"routing": {"stub": true}}"#).routing.stub, .on)
        XCTAssertEqual(try NodeConfig.parse(#"{"routing": {"stub": false}}"#).routing.stub, .off)
        XCTAssertEqual(try NodeConfig.parse(#"{"routing": {"stub": "auto"}}"#).routing.stub, .auto)
        for (text, field) in [(#"{"routing": {"stub": "yes"}}"#, "routing.stub"), (#"{"routing": {"stub": 1}}"#, "routing.stub"),
                              (#"{"routing": {"stubb": true}}"#, "routing.stubb"), (#"{"routing": true}"#, "routing")] {
            do { _ = try NodeConfig.parse(text); XCTFail(text) } catch { XCTAssertEqual(error.field, field, text) }
        }
        var c = NodeConfig()
        c.routing.stub = .auto
        XCTAssertEqual(try NodeConfig.parse(c.json().serialized()).routing.stub, .auto)
    }

    func testAutoIsAStubOnlyWithOnePeerAndNoReachableListener() {
        var r = RoutingConfig()
        r.stub = .auto
        let peer = PeerURI(host: "192.0.2.1", port: 8470)
        let loop = PeerURI(host: "::1", port: 8470)
        let any = PeerURI(host: "::", port: 8470)
        XCTAssertTrue(r.isStub(peers: [peer], listen: []))
        XCTAssertTrue(r.isStub(peers: [peer], listen: [loop]))
        XCTAssertFalse(r.isStub(peers: [peer], listen: [any]))
        XCTAssertFalse(r.isStub(peers: [peer, peer], listen: []))
        XCTAssertFalse(r.isStub(peers: [], listen: []))
        r.stub = .on
        XCTAssertTrue(r.isStub(peers: [peer, peer], listen: [any]))
        r.stub = .off
        XCTAssertFalse(r.isStub(peers: [peer], listen: []))
    }
}
