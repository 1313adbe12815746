import PlanetCapacity
import PlanetCore
import PlanetLink
import PlanetNode

/// `planethostile tamper-capacity`: a hostile relay for capacity records
/// (Tests/Integration/test_capacity_hostile.sh). It takes the links its neighbours dial and
/// dials the peers it is given, speaks capacity gossip with all of them through an honest
/// `CapacityGossip` (so its own directory holds what they genuinely sent), and changes every
/// record it sends on by one byte of its memory total: a record for another key, one byte
/// off, signature untouched. The change is made here, on the way out of the gossip, so the
/// product's gossip needs no hook for it. Runs until killed.
final class TamperCapacity {
    let link: HostileLink
    let gossip = CapacityGossip(directory: CapacityDirectory())
    /// The records already reported as held, by key: their seqnos.
    private var reported: [PublicKey: UInt64] = [:]

    init(link: HostileLink, peers: [Peer]) {
        self.link = link
        for peer in peers { link.dial(peer) }
    }

    /// Byte 77 is inside the record's total memory (`mru`, big-endian at offsets 74-81,
    /// Docs/protocol.md): 0x10 there is 2³⁶ bytes, 64 GiB more, a lie worth telling.
    static func forged(_ record: [UInt8]) -> [UInt8] {
        var forged = record
        if forged.count > 81 { forged[77] ^= 0x10 }
        return forged
    }

    func run() -> Never {
        say("tamper-capacity: relaying every capacity record one byte off (key \(link.identity.publicKey.hex))")
        while true {
            link.pump(0) { event in
                let now = link.now()
                switch event {
                case .linkUp(let key, let endpoint, _):
                    say("tamper-capacity: linked to \(key.hex) at \(endpoint)")
                    gossip.neighbourUp(key, now: now)
                case .linkDown(let key, _):
                    gossip.neighbourDown(key)
                case .frame(let frame, let from) where frame.first == InnerFrameType.capacity.rawValue:
                    gossip.receive(Array(frame.dropFirst()), from: from, now: now, unixNow: link.unixNow())
                default:
                    break  // routing and the rest: a relay that only lies about capacity
                }
            }
            gossip.tick(now: link.now(), unixNow: link.unixNow())
            gossip.drainMessages { key, message in
                var message = message
                if case .records(let records) = message { message = .records(records.map(TamperCapacity.forged)) }
                link.send(frame: [InnerFrameType.capacity.rawValue] + message.encoded(), to: key)
            }
            reportHeld()
        }
    }

    /// One line per record its directory takes (genuine: the gossip checked the signature),
    /// with the memory total the record states, for the test to compare with the announcer's.
    private func reportHeld() {
        for entry in gossip.directory.entries where reported[entry.key] != entry.seqno {
            reported[entry.key] = entry.seqno
            let mru = (try? CapacityRecord.decode(entry.bytes)).map { String($0.total.mru) } ?? "?"
            say("tamper-capacity: holds \(entry.key.hex) seqno \(entry.seqno) mru \(mru)")
        }
    }
}
