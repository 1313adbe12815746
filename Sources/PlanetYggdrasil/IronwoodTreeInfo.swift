import PlanetCore

/// One node's place in the spanning tree as the router stores it (ironwood's `routerInfo`):
/// everything of its latest accepted `IronwoodAnnounce` but the key, which is the table's key.
struct IronwoodTreeInfo: Equatable {
    var parent: PublicKey
    var response: IronwoodSigRes
    var signature: [UInt8]
    /// Self entry: when the 4-minute refresh is due; others: when the entry expires (5 min).
    /// Reset only when a newer announcement replaces the entry, never by hearing the same one.
    var deadline: Instant

    init(_ announce: IronwoodAnnounce, deadline: Instant) {
        parent = announce.parent
        response = announce.response
        signature = announce.signature
        self.deadline = deadline
    }

    var seq: UInt64 { response.request.seq }
    var nonce: UInt64 { response.request.nonce }
    var port: UInt64 { response.port }

    func announce(for key: PublicKey) -> IronwoodAnnounce {
        IronwoodAnnounce(key: key, parent: parent, response: response, signature: signature)
    }

    /// The same announcement (ironwood compares the whole routerInfo, timers aside).
    func sameAnnouncement(as other: IronwoodAnnounce) -> Bool {
        parent == other.parent && response == other.response && signature == other.signature
    }

    /// Ironwood's acceptance rule (`_update`, marked "DO NOT CHANGE" there): every node must
    /// order two announcements of one key the same way, or peers re-send expired entries to each
    /// other forever. Newer seq wins; at the same seq the smaller parent; at the same seq and
    /// parent the smaller nonce. Equal or worse is refused.
    func isReplaced(by announce: IronwoodAnnounce) -> Bool {
        if seq > announce.response.request.seq { return false }
        if seq < announce.response.request.seq { return true }
        if parent < announce.parent { return false }
        if announce.parent < parent { return true }
        return announce.response.request.nonce < nonce
    }
}
