import XCTest
import PlanetCore
@testable import PlanetRuntime

final class IOUDPSocketTests: XCTestCase {
    private func uri(_ text: String) -> PeerURI { try! PeerURI.parse(text, allowKey: false).get() }

    /// Polls a nonblocking receive until `want` datagrams came or a generous bound passes;
    /// the bound only guards against hanging, no assertion depends on timing.
    private func receive(_ socket: UDPSocket, _ batch: DatagramBatch, want: Int) -> [(Endpoint, [UInt8])] {
        var out: [(Endpoint, [UInt8])] = []
        for _ in 0..<2000 where out.count < want {
            let n = socket.receiveBatch(into: batch)
            for i in 0..<n { out.append((batch.endpoint(i), Array(batch.datagram(i)))) }
            if n == 0 { usleep(1000) }
        }
        return out
    }

    func testIPv6LoopbackRoundTripReportsSenderAndSocketIndex() throws {
        let a = try UDPSocket(listen: uri("udp://[::1]:0"), socketIndex: 3)
        let b = try UDPSocket(listen: uri("udp://[::1]:0"), socketIndex: 5)
        XCTAssertEqual(a.localEndpoint.address, IPv6Address("::1"))
        XCTAssertNotEqual(a.localEndpoint.port, 0)
        XCTAssertTrue(a.send([1, 2, 3], to: b.localEndpoint))
        let batch = DatagramBatch(capacity: 8)
        let got = receive(b, batch, want: 1)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got.first?.1, [1, 2, 3])
        XCTAssertEqual(got.first?.0, Endpoint(address: IPv6Address("::1")!, port: a.localEndpoint.port, socket: 5))
        XCTAssertEqual(a.localEndpoint.socket, 3)
    }

    func testIPv4SocketSendsToV4MappedAndReportsV4Mapped() throws {
        let a = try UDPSocket(listen: uri("udp://127.0.0.1:0"), socketIndex: 1)
        let b = try UDPSocket(listen: uri("udp://127.0.0.1:0"), socketIndex: 2)
        XCTAssertEqual(a.family, AF_INET)
        XCTAssertTrue(b.localEndpoint.isIPv4)
        XCTAssertEqual(b.localEndpoint.description, "127.0.0.1:\(b.localEndpoint.port)")
        XCTAssertTrue(a.send([9, 8], to: b.localEndpoint))
        let got = receive(b, DatagramBatch(capacity: 4), want: 1)
        XCTAssertEqual(got.first?.1, [9, 8])
        XCTAssertEqual(got.first?.0, Endpoint(ipv4: 127, 0, 0, 1, port: a.localEndpoint.port, socket: 2))
    }

    func testDualStackSocketHearsIPv4AsV4Mapped() throws {
        let any = try UDPSocket(listen: uri("udp://[::]:0"), socketIndex: 0)
        let v4 = try UDPSocket(listen: uri("udp://127.0.0.1:0"), socketIndex: 1)
        XCTAssertTrue(v4.send([7], to: Endpoint(ipv4: 127, 0, 0, 1, port: any.localEndpoint.port)))
        let got = receive(any, DatagramBatch(capacity: 4), want: 1)
        XCTAssertEqual(got.first?.0, Endpoint(ipv4: 127, 0, 0, 1, port: v4.localEndpoint.port, socket: 0))
        // And the reply from the dual-stack socket reaches the IPv4 socket.
        XCTAssertTrue(any.send([6], to: got[0].0))
        let back = receive(v4, DatagramBatch(capacity: 4), want: 1)
        XCTAssertEqual(back.first?.1, [6])
        XCTAssertEqual(back.first?.0.port, any.localEndpoint.port)
    }

    func testIPv4SocketRefusesPlainIPv6DestinationAndCountsIt() throws {
        let a = try UDPSocket(listen: uri("udp://127.0.0.1:0"))
        XCTAssertFalse(a.send([1], to: Endpoint(address: IPv6Address("::1")!, port: 9)))
        XCTAssertEqual(a.sendErrors, 1)
    }

    func testSendBatchOf64AllArriveInOrder() throws {
        let a = try UDPSocket(listen: uri("udp://[::1]:0"))
        let b = try UDPSocket(listen: uri("udp://[::1]:0"))
        let out = SendBatch(capacity: 64, slotSize: 1500)
        for i in 0..<64 {
            XCTAssertTrue(out.append([UInt8](repeating: UInt8(i), count: 100 + i), to: b.localEndpoint))
        }
        XCTAssertTrue(out.isFull)
        XCTAssertFalse(out.append([0], to: b.localEndpoint))
        XCTAssertEqual(a.sendBatch(out), 64)
        XCTAssertTrue(out.isEmpty)
        let got = receive(b, DatagramBatch(capacity: 64), want: 64)
        XCTAssertEqual(got.count, 64)
        for (i, (from, bytes)) in got.enumerated() {
            XCTAssertEqual(from.port, a.localEndpoint.port)
            XCTAssertEqual(bytes, [UInt8](repeating: UInt8(i), count: 100 + i))
        }
    }

    func testSendBatchSkipsRefusedDatagramAndSendsTheRest() throws {
        let a = try UDPSocket(listen: uri("udp://127.0.0.1:0"))
        let b = try UDPSocket(listen: uri("udp://127.0.0.1:0"))
        let out = SendBatch(capacity: 4, slotSize: 64)
        out.append([1], to: b.localEndpoint)
        out.append([2], to: Endpoint(address: IPv6Address("::1")!, port: 9))  // wrong family
        out.append([3], to: b.localEndpoint)
        XCTAssertEqual(a.sendBatch(out), 2)
        XCTAssertEqual(a.sendErrors, 1)
        let got = receive(b, DatagramBatch(capacity: 4), want: 2)
        XCTAssertEqual(got.map { $0.1 }, [[1], [3]])
    }

    func testTruncatedDatagramIsMarkedAndCounted() throws {
        let a = try UDPSocket(listen: uri("udp://[::1]:0"))
        let b = try UDPSocket(listen: uri("udp://[::1]:0"))
        a.send([UInt8](repeating: 1, count: 200), to: b.localEndpoint)
        let batch = DatagramBatch(capacity: 2, slotSize: 100)
        var n = 0
        for _ in 0..<2000 where n == 0 { n = b.receiveBatch(into: batch); if n == 0 { usleep(1000) } }
        XCTAssertEqual(n, 1)
        XCTAssertEqual(batch.length(0), -1)
        XCTAssertEqual(batch.datagram(0).count, 0)
        XCTAssertEqual(b.truncatedDrops, 1)
    }

    func testEmptyReceiveReturnsZeroWithoutError() throws {
        let a = try UDPSocket(listen: uri("udp://[::1]:0"))
        XCTAssertEqual(a.receiveBatch(into: DatagramBatch(capacity: 4)), 0)
        XCTAssertEqual(a.receiveErrors, 0)
    }

    func testBuffersAreEnlargedAndHostnamesRefused() throws {
        let a = try UDPSocket(listen: uri("udp://[::1]:0"))
        if isRoot() { XCTAssertGreaterThanOrEqual(a.receiveBufferSize, UDPSocket.defaultBufferSize) }
        XCTAssertThrowsError(try UDPSocket(listen: uri("udp://localhost:0")))
    }
}
