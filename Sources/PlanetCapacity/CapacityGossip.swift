import PlanetCore

/// Spreads capacity records between linked nodes (Docs/protocol.md, "Capacity gossip"):
///
/// - **Flooding.** A record this node accepts, from a neighbour or its own announcer, goes to
///   every other neighbour once. The directory's (key, seqno) check stops it coming round
///   again, so each record crosses each link at most once in each direction.
/// - **Reconciliation by digest.** When a link comes up, and every `resummaryInterval` after
///   (skipped while nothing can differ, up to `quietResummaryInterval`), each side sends its
///   256 per-bucket (count, digest) pairs. For a bucket that differs, a side
///   whose bucket is empty just waits, a side whose neighbour's bucket is empty sends all its
///   records of that bucket, and otherwise both exchange the bucket's (key prefix, seqno) list
///   and each sends exactly the records the other lacks or holds older. A late joiner gets the
///   whole directory from its first neighbour at the pacer's rate; a healed partition sends
///   only what changed on either side.
/// - **A short hold before flooding.** A record to flood waits `floodDelay` (0.2 s) in each
///   neighbour's outbox; if that neighbour sends us the same record (or a newer one) meanwhile,
///   it is struck from the outbox, and records that arrive together leave in one message. On a
///   mesh most records would otherwise cross many links both ways at once; the hold removes
///   most of those second crossings, and packs re-announcements that meet at a node into
///   fewer messages (78 bytes of framing each), for 0.2 s per hop.
///
/// - **Stubs** (CapacityGossip+Stub.swift; Docs/protocol.md, "Capacity on stub nodes"). A stub
///   (`isStub`) holds no directory but its own record, which it sends its neighbours; it asks
///   its upstream for `nodes find` (`find`). A neighbour that is a stub (`isStubNeighbour`, the
///   routing stub hello) is sent no floods and no summaries, only answers, and only its own
///   record is taken from it.
///
/// Sans-I/O: messages in with the times, messages out through `drainOutgoing`. The node's
/// adapter (`CapacityNeighbour`) paces the output with routing's in lane 1.
public final class CapacityGossip {
    public let directory: CapacityDirectory

    /// This node is a stub (`routing.stub`): it keeps its own record only and asks its upstream.
    public var isStub = false
    /// Whether a neighbour said it is a stub (the node wires it to the router, which heard the
    /// routing stub hello): asked whenever something would be flooded or summarised to it.
    public var isStubNeighbour: (PublicKey) -> Bool = { _ in false }
    /// This node's route metric to a key (nil: no route), for the find answers it gives.
    public var metric: (PublicKey) -> Int? = { _ in nil }
    /// The stub's finder queries out.
    public let finds = CapacityFinds()
    /// Find queries answered, refused for their rate, and records refused from a stub for
    /// not being its own (`capacity-stub-relay`) or arriving at a stub (`capacity-stub-ignored`).
    public internal(set) var findQueriesAnswered: UInt64 = 0
    public internal(set) var findQueriesRateLimited: UInt64 = 0
    public internal(set) var refusedFromStub: UInt64 = 0
    public internal(set) var ignoredAsStub: UInt64 = 0
    /// All neighbours' find queries together (each neighbour has its own bucket too): each
    /// answer decodes and filters the whole directory on the node's loop (~3 ms a 1,000 records).
    var findBudget: TokenBucket?
    /// How often each neighbour may be sent a fresh summary, to heal whatever flooding missed
    /// (a record refused for its rate, a frame the pacer could not queue): 3 KiB each time.
    public static let resummaryInterval = 60.0
    /// A summary is skipped while nothing can differ (`isQuiet`): this node's directory is as
    /// it was when the last summary went to that neighbour, and the neighbour's own last
    /// summary matched it bucket for bucket. One goes at least this often all the same. A quiet
    /// link then costs ~10 B/s of summaries instead of ~100 (a stub's link, issue #25: ≤ 100 B/s
    /// in all), and a busy one (records re-announced, so the directory changes) what it did.
    public static let quietResummaryInterval = 600.0

    /// How long a record to flood waits for the neighbour to send it first (see above). The
    /// trade, measured at 10⁴ records re-announced every 30 min (Docs/scale.md): 0.1 s kept a
    /// link at 1,985 B/s, just under the 2 KB/s the steady state may cost, with a change at
    /// 99% of 10⁴ nodes in 1.1 s; 0.2 s: 1,830 B/s, and a change at 99% in 2.0 s, well
    /// inside its 5 s.
    public var floodDelay = 0.2

    /// A class: its outbox is mutated on every record queued, and a struct held in a
    /// dictionary would be copied out and back, outbox and all (quadratic in a large outbox).
    final class Neighbour {
        /// The outbox: the directory slots of the records to send, in the order queued. A
        /// slot's record is read when the outbox leaves, so what goes is the newest held for
        /// that key. 4 bytes a record: a whole directory queued for a new neighbour is 400 KB
        /// at 10⁵ records, and planetsim's 10⁴ nodes × 4 neighbours can each hold thousands.
        var order: [Int32] = []
        /// A bit per directory slot: queued and not struck since (the neighbour sent it first).
        var queued: [UInt64] = []
        /// When the outbox may leave (nil: empty).
        var outboxDue: Instant?
        var control: [CapacityMessage] = []
        /// A bit per bucket whose list is in `control`: each summary the neighbour sends is
        /// answered with lists, and a list costs this node its whole bucket, so without this a
        /// neighbour repeating one 1,155-byte summary had the node build (and hold until the
        /// next drain) a third of its directory per copy — the backlog hands over thousands at
        /// once, since summaries cost no signature check. Cleared when `control` leaves.
        var listsQueued: [UInt64] = [0, 0, 0, 0]
        /// Bucket lists being received in parts: bucket -> (total announced, prefix -> seqno).
        var lists: [Int: (total: Int, entries: [UInt64: UInt64])] = [:]
        /// Entries held in `lists`, all buckets together (bounded: `maxListEntriesPerNeighbour`).
        var listEntries = 0
        var nextSummary: Instant
        /// The directory's fingerprint and the time when the last summary went to this neighbour.
        var sentFingerprint: UInt64?
        var sentAt = Instant.zero
        /// The neighbour's last whole summary matched this directory in every bucket.
        var matched = false
        /// Buckets of the summary being received that matched so far, in order from bucket 0;
        /// -1 once one differed or a part went missing (until the next summary starts).
        var matchedSoFar = -1
        /// This neighbour's find queries (`findQueriesPerSecond`), made at its first query.
        var findBudget: TokenBucket?

        let key: PublicKey
        init(key: PublicKey, nextSummary: Instant) { self.key = key; self.nextSummary = nextSummary }

        /// Whether a summary due now can be skipped (see `quietResummaryInterval`).
        func isQuiet(fingerprint: UInt64, now: Instant) -> Bool {
            matched && sentFingerprint == fingerprint && now.seconds(since: sentAt) < CapacityGossip.quietResummaryInterval
        }

        @inline(__always)
        func isQueued(_ slot: Int) -> Bool { slot >> 6 < queued.count && queued[slot >> 6] & (1 << UInt64(slot & 63)) != 0 }

        /// Queues a slot; false if it was queued already.
        func enqueue(_ slot: Int) -> Bool {
            if isQueued(slot) { return false }
            while slot >> 6 >= queued.count { queued.append(0) }
            queued[slot >> 6] |= 1 << UInt64(slot & 63)
            order.append(Int32(slot))
            return true
        }

        func strike(_ slot: Int) { if slot >> 6 < queued.count { queued[slot >> 6] &= ~(1 << UInt64(slot & 63)) } }

        /// The directory moved its records (some expired): the same records, new slots.
        func remap(_ moved: [Int32]) {
            let old = order.filter { Int($0) < moved.count && isQueued(Int($0)) }.map { moved[Int($0)] }
            order = []
            queued = []
            for s in old where s >= 0 { _ = enqueue(Int(s)) }
            if order.isEmpty { outboxDue = nil }
        }

        func clearOutbox() {
            order = []
            queued = []
            outboxDue = nil
        }
    }

    var neighbours: [PublicKey: Neighbour] = [:]
    /// The neighbours with control messages or an outbox waiting: every one whose `control` is
    /// not empty or whose `outboxDue` is set is in here, so a drain (after every input the
    /// node pumps) visits those, not all of a hub's 10⁴ neighbours (Docs/scale.md, "A public hub").
    var drainDue: Set<PublicKey> = []

    /// Queues a control message for `n` and marks it for the next drain: the one way control
    /// messages are queued, so none can wait unseen by a drain that visits only `drainDue`.
    func sendControl(_ message: CapacityMessage, to n: Neighbour) {
        n.control.append(message)
        drainDue.insert(n.key)
    }
    /// Entries held in unfinished bucket lists from one neighbour, and from all together. A
    /// list is kept until its announced total is in, and the total is the neighbour's word (up
    /// to 2³²−1), so without these a neighbour could grow the lists without end by never
    /// finishing one. An honest list is one bucket of the neighbour's directory, ~1/256 of it,
    /// and its parts come together; the default allows a whole directory the size of this
    /// node's own (`maxRecords`, at least 1,024) per neighbour and in all: ~40 bytes an entry,
    /// 4 MB at 100,000, beside the directory's 2 KiB a record.
    public var maxListEntriesPerNeighbour: Int
    public var maxListEntries: Int
    /// Entries in all neighbours' unfinished lists.
    private(set) var listEntries = 0
    /// Bucket lists given up to keep those bounds (counted `capacity-lists-full`): a list whose
    /// total alone exceeds the neighbour's bound, and unfinished lists dropped to make room. A
    /// bucket given up is compared again at the next summary.
    public private(set) var droppedLists: UInt64 = 0
    /// The latest time any input brought, for the outbox's hold.
    private(set) var clock = Instant.zero
    public private(set) var malformedMessages: UInt64 = 0
    /// Records held but not flooded on because they left their neighbour over its share of
    /// a full directory (`capacity-over-share-not-flooded`; `CapacityDirectory.lastAcceptedOverShare`).
    public private(set) var heldNotFlooded: UInt64 = 0
    public private(set) var recordsSent: UInt64 = 0
    public private(set) var messagesSent: UInt64 = 0
    public private(set) var bytesSent: UInt64 = 0

    /// The directory's generation the outboxes' slot numbers belong to.
    private var slotsGeneration: UInt64

    public init(directory: CapacityDirectory) {
        self.directory = directory
        slotsGeneration = directory.generation
        maxListEntriesPerNeighbour = max(directory.maxRecords, 1024)
        maxListEntries = max(directory.maxRecords, 1024)
    }

    /// If someone else expired records (the slots moved and nobody told the outboxes), the
    /// outboxes are dropped and every neighbour is sent a summary: reconciliation resends
    /// whatever it still lacks. `tick` expires with the remap, so this is a safety net.
    private func syncSlots() {
        guard slotsGeneration != directory.generation else { return }
        slotsGeneration = directory.generation
        for (key, n) in neighbours {
            n.clearOutbox()
            queueSummary(to: key, now: clock)
        }
    }

    public var neighbourKeys: [PublicKey] { Array(neighbours.keys) }

    // MARK: Neighbours

    public func neighbourUp(_ key: PublicKey, now: Instant) {
        advance(now: now)
        neighbourDown(key)
        neighbours[key] = Neighbour(key: key, nextSummary: now)
        directory.neighbourUp(key)
        if isStub { sendOwnRecord(to: key, now: now) } else { queueSummary(to: key, now: now) }
    }

    /// The neighbour's records stay, with no share any more (`CapacityDirectory`, "Fair shares").
    public func neighbourDown(_ key: PublicKey) {
        if let n = neighbours.removeValue(forKey: key) { listEntries -= n.listEntries }
        directory.neighbourDown(key)
        finds.upstreamDown(key)
    }

    /// Offers a record to the directory, attributed to `source`; slots that move because the
    /// record evicted others are carried into every outbox.
    private func offer(_ bytes: [UInt8], unixNow: Double, from source: CapacityDirectory.Source) -> CapacityDirectory.Outcome {
        let outcome = directory.offer(bytes, unixNow: unixNow, from: source) { moved in
            for n in neighbours.values { n.remap(moved) }
        }
        slotsGeneration = directory.generation
        return outcome
    }

    // MARK: Input

    /// A message body from a neighbour.
    public func receive(_ body: [UInt8], from key: PublicKey, now: Instant, unixNow: Double) {
        advance(now: now)
        guard neighbours[key] != nil else { return }
        guard let message = CapacityMessage.decode(body) else { malformedMessages += 1; return }
        receive(message, from: key, now: now, unixNow: unixNow)
    }

    /// A decoded message from a neighbour. planetsim delivers messages this way, so its
    /// nodes share each record's bytes instead of each holding a decoded copy.
    public func receive(_ message: CapacityMessage, from key: PublicKey, now: Instant, unixNow: Double) {
        advance(now: now)
        syncSlots()
        guard let neighbour = neighbours[key] else { return }
        switch message {
        case .findQuery(let id, let filters):
            answerFind(id: id, filters: filters, from: key, neighbour, now: now, unixNow: unixNow)
            return
        case .findAnswer(let id, let part, let parts, let held, let records):
            finds.receive(id: id, part: part, parts: parts, held: held, records: records, from: key, verify: directory.verify)
            return
        case .summary, .bucketList, .records:
            // A stub takes nothing but answers (its own record it has); what a stub sends is
            // its own record and queries, nothing to reconcile.
            if isStub || (isStubNeighbour(key) && !message.isRecords) { ignoredAsStub += 1; return }
        }
        switch message {
        case .findQuery, .findAnswer: break
        case .records(let records):
            let fromStub = isStubNeighbour(key)
            for bytes in records {
                guard let (k, seqno) = CapacityRecord.header(bytes) else {
                    directory.offer(bytes, unixNow: unixNow)  // counted as malformed
                    continue
                }
                // A stub relays nothing: its own record, and no one else's (as routing refuses
                // a stub's relayed routes).
                if fromStub && k != key { refusedFromStub += 1; continue }
                // The neighbour has this one (or newer): nothing older need go to it.
                if !neighbour.order.isEmpty, let slot = directory.slot(of: k), neighbour.isQueued(slot), directory.entries[slot].seqno <= seqno {
                    neighbour.strike(slot)
                }
                guard offer(bytes, unixNow: unixNow, from: .neighbour(key)) == .accepted, let slot = directory.slot(of: k) else { continue }
                if directory.lastAcceptedOverShare { heldNotFlooded += 1; continue }
                flood(slot, except: key)
            }
        case .summary(let first, let buckets):
            if first == 0 { neighbour.matchedSoFar = 0 } else if first != neighbour.matchedSoFar { neighbour.matchedSoFar = -1 }
            var b = first
            for theirs in buckets {
                let same = compare(bucket: b, theirs: theirs, with: key)
                if neighbour.matchedSoFar >= 0 { neighbour.matchedSoFar = same ? neighbour.matchedSoFar + 1 : -1 }
                b += 1
            }
            // Judged once the summary is whole: a difference anywhere means the next summary
            // due goes (the neighbour may be waiting for ours to send what it lacks).
            if neighbour.matchedSoFar < 0 || b >= CapacityDirectory.bucketCount {
                neighbour.matched = neighbour.matchedSoFar == CapacityDirectory.bucketCount
            }
        case .bucketList(let bucket, let total, let entries):
            receiveList(bucket: bucket, total: total, entries: entries, from: key, neighbour)
        }
    }

    /// One part of a neighbour's bucket list: answered once the whole list is in, held until
    /// then within the bounds on unfinished lists (above).
    func receiveList(bucket: Int, total: Int, entries: [CapacityMessage.ListEntry], from key: PublicKey, _ neighbour: Neighbour) {
        var list = takeList(bucket, of: neighbour) ?? (total, [:])
        if list.total != total { list = (total, [:]) }  // the neighbour's bucket changed: a new list
        guard total <= maxListEntriesPerNeighbour else { droppedLists += 1; return }  // could never finish
        for e in entries { list.entries[e.prefix] = e.seqno }
        if list.entries.count >= total {
            answer(bucket: bucket, theirs: list.entries, to: key)
            return
        }
        // The neighbour's other unfinished lists give way first: an honest neighbour sends a
        // list's parts one after another, so those lost parts on the way (or were never meant
        // to finish). The list itself fits: it holds fewer entries than its total.
        while neighbour.listEntries + list.entries.count > maxListEntriesPerNeighbour,
              let largest = neighbour.lists.max(by: { $0.value.entries.count < $1.value.entries.count })?.key {
            _ = takeList(largest, of: neighbour)
            droppedLists += 1
        }
        neighbour.lists[bucket] = list
        neighbour.listEntries += list.entries.count
        listEntries += list.entries.count
        // Past the bound for all, the neighbour holding the most gives up its largest list
        // (this one, if that is where it is), so several neighbours flooding lists cannot
        // crowd out an honest one's single list in progress.
        while listEntries > maxListEntries,
              let most = neighbours.values.max(by: { $0.listEntries < $1.listEntries }),
              let largest = most.lists.max(by: { $0.value.entries.count < $1.value.entries.count })?.key {
            _ = takeList(largest, of: most)
            droppedLists += 1
        }
    }

    /// Removes an unfinished list, and its entries from the counts.
    private func takeList(_ bucket: Int, of n: Neighbour) -> (total: Int, entries: [UInt64: UInt64])? {
        guard let list = n.lists.removeValue(forKey: bucket) else { return nil }
        n.listEntries -= list.entries.count
        listEntries -= list.entries.count
        return list
    }

    /// This node's own record (already signed): held like any other and flooded to everyone.
    @discardableResult
    public func publish(_ bytes: [UInt8], now: Instant, unixNow: Double) -> CapacityDirectory.Outcome {
        advance(now: now)
        syncSlots()
        let outcome = offer(bytes, unixNow: unixNow, from: .local)
        if outcome == .accepted, let (k, _) = CapacityRecord.header(bytes), let slot = directory.slot(of: k) { flood(slot, except: nil) }
        return outcome
    }

    func flood(_ slot: Int, except: PublicKey?) {
        for (key, n) in neighbours where key != except && !isStubNeighbour(key) { queue(slot, to: n, hold: floodDelay) }
    }

    /// Puts the record in directory slot `slot` in a neighbour's outbox (once: if a newer
    /// record of the key replaces it meanwhile, the newer one goes); the outbox leaves
    /// `hold` seconds from now at the latest, even if the slot was queued already.
    func queue(_ slot: Int, to n: Neighbour, hold: Double) {
        _ = n.enqueue(slot)
        drainDue.insert(n.key)
        let due = clock.adding(seconds: hold)
        if n.outboxDue == nil || due < n.outboxDue! { n.outboxDue = due }
    }

    /// Moves the clock on (every input does), so held outboxes know when they are due.
    public func advance(now: Instant) { if now > clock { clock = now } }

    /// Compares one bucket of a neighbour's summary with ours and starts what settles a
    /// difference; true when the bucket is the same on both sides.
    @discardableResult
    func compare(bucket b: Int, theirs: CapacityMessage.Bucket, with key: PublicKey) -> Bool {
        let mine = directory.bucketCount(b)
        guard mine != Int(theirs.count) || directory.bucketDigest(b) != theirs.digest else { return true }
        if mine == 0 { return false }
        if theirs.count == 0 {
            guard let n = neighbours[key] else { return false }
            directory.forEachSlot(inBucket: b) { queue($0, to: n, hold: 0) }
            return false
        }
        guard let n = neighbours[key], n.listsQueued[b >> 6] & (1 << UInt64(b & 63)) == 0 else { return false }
        n.listsQueued[b >> 6] |= 1 << UInt64(b & 63)
        let entries = directory.entries(inBucket: b).map { CapacityMessage.ListEntry(prefix: $0.keyPrefix, seqno: $0.seqno) }
        var start = 0
        repeat {
            let part = Array(entries[start..<min(entries.count, start + CapacityMessage.entriesPerList)])
            sendControl(.bucketList(bucket: b, total: entries.count, entries: part), to: n)
            start += CapacityMessage.entriesPerList
        } while start < entries.count
        return false
    }

    func answer(bucket b: Int, theirs: [UInt64: UInt64], to key: PublicKey) {
        guard let n = neighbours[key] else { return }
        directory.forEachSlot(inBucket: b) { slot in
            let e = directory.entries[slot]
            if let seqno = theirs[e.keyPrefix], seqno >= e.seqno { return }
            queue(slot, to: n, hold: 0)
        }
    }

    func queueSummary(to key: PublicKey, now: Instant) {
        guard !isStub, !isStubNeighbour(key) else {
            neighbours[key]?.nextSummary = now.adding(seconds: CapacityGossip.resummaryInterval)
            return
        }
        var first = 0
        while first < CapacityDirectory.bucketCount {
            let n = min(CapacityMessage.bucketsPerSummary, CapacityDirectory.bucketCount - first)
            let buckets = (first..<first + n).map { CapacityMessage.Bucket(count: UInt32(directory.bucketCount($0)), digest: directory.bucketDigest($0)) }
            if let n = neighbours[key] { sendControl(.summary(first: first, buckets: buckets), to: n) }
            first += n
        }
        neighbours[key]?.nextSummary = now.adding(seconds: CapacityGossip.resummaryInterval)
        neighbours[key]?.sentFingerprint = directory.fingerprint
        neighbours[key]?.sentAt = now
    }

    // MARK: Time

    public func tick(now: Instant, unixNow: Double) {
        advance(now: now)
        syncSlots()
        directory.expire(unixNow: unixNow) { moved in
            for n in neighbours.values { n.remap(moved) }
        }
        slotsGeneration = directory.generation
        var fingerprint: UInt64?
        finds.expire(now: now)
        for (key, n) in neighbours where n.nextSummary <= now {
            if isStub { sendOwnRecord(to: key, now: now); continue }
            let f = fingerprint ?? directory.fingerprint
            fingerprint = f
            if n.isQuiet(fingerprint: f, now: now) {
                n.nextSummary = now.adding(seconds: CapacityGossip.resummaryInterval)
            } else {
                queueSummary(to: key, now: now)
            }
        }
    }

    public var nextDeadline: Instant {
        var d = Instant.never
        for n in neighbours.values {
            d = min(d, n.nextSummary)
            if let due = n.outboxDue { d = min(d, due) }
        }
        return min(d, finds.nextDeadline)
    }

    // MARK: Output

    /// Hands over each message: control messages first (they are small and decide what else
    /// is sent), then, once its hold is over, the outbox packed as many records to a message as fit.
    public func drainOutgoing(_ send: (PublicKey, [UInt8]) -> Void) {
        drainMessages { key, message in send(key, message.encoded()) }
    }

    /// The same messages not yet encoded (planetsim's path: a record stays one shared array
    /// from its announcer to every directory; `encodedCount` is what it would cost).
    public func drainMessages(_ send: (PublicKey, CapacityMessage) -> Void) {
        syncSlots()
        let visit = drainDue
        drainDue.removeAll(keepingCapacity: true)
        for key in visit {
            guard let n = neighbours[key] else { continue }
            // An outbox still held stays due for a later drain.
            defer { if !n.control.isEmpty || n.outboxDue != nil { drainDue.insert(key) } }
            let recordsDue = n.outboxDue.map { $0 <= clock } ?? false
            guard !n.control.isEmpty || recordsDue else { continue }
            if isStubNeighbour(key) {
                // What was queued before its stub hello arrived (the link-up summary) never goes.
                n.control.removeAll { !$0.isFindAnswer }
                if !isStub { n.clearOutbox(); if n.control.isEmpty { continue } }
            }
            for m in n.control { emit(m, to: key, send) }
            n.control.removeAll()
            n.listsQueued = [0, 0, 0, 0]
            if recordsDue {
                var batch: [[UInt8]] = []
                var size = 2
                for s in n.order {
                    let slot = Int(s)
                    guard n.isQueued(slot) else { continue }  // struck: the neighbour sent it first
                    n.strike(slot)
                    let r = directory.entries[slot].bytes
                    if !batch.isEmpty && (size + 2 + r.count > CapacityMessage.maxBytes || batch.count == 255) {
                        emit(.records(batch), to: key, send)
                        batch = []
                        size = 2
                    }
                    batch.append(r)
                    size += 2 + r.count
                    recordsSent += 1
                }
                if !batch.isEmpty { emit(.records(batch), to: key, send) }
                n.order.removeAll()
                n.outboxDue = nil
            }
        }
    }

    private func emit(_ message: CapacityMessage, to key: PublicKey, _ send: (PublicKey, CapacityMessage) -> Void) {
        messagesSent += 1
        bytesSent += UInt64(message.encodedCount)
        send(key, message)
    }

    /// Whether anything waits to be drained.
    public var hasOutgoing: Bool { neighbours.values.contains { !$0.control.isEmpty || !$0.order.isEmpty } }

    /// The directory's refusals and this protocol's own drops, by full reason name.
    public var drops: [(String, UInt64)] {
        var out = CapacityRejection.allCases.compactMap { r -> (String, UInt64)? in
            guard let n = directory.rejections[r], n > 0 else { return nil }
            return ("capacity-" + r.rawValue, n)
        }
        if malformedMessages > 0 { out.append(("capacity-malformed-message", malformedMessages)) }
        if droppedLists > 0 { out.append(("capacity-lists-full", droppedLists)) }
        if directory.evicted > 0 { out.append(("capacity-evicted", directory.evicted)) }
        if heldNotFlooded > 0 { out.append(("capacity-over-share-not-flooded", heldNotFlooded)) }
        if refusedFromStub > 0 { out.append(("capacity-stub-relay", refusedFromStub)) }
        if ignoredAsStub > 0 { out.append(("capacity-stub-ignored", ignoredAsStub)) }
        if findQueriesRateLimited > 0 { out.append(("capacity-find-rate-limited", findQueriesRateLimited)) }
        if finds.badSignatures > 0 { out.append(("capacity-find-bad-signature", finds.badSignatures)) }
        if finds.unsolicited > 0 { out.append(("capacity-find-unsolicited", finds.unsolicited)) }
        return out
    }
}
