/// Why the directory refused a record. Every refusal is counted under its reason
/// (`capacity-<reason>` in `planetctl stats` and /metrics), so an operator can tell a
/// hostile neighbour (`bad-signature`, `conflict`) from a skewed clock (`future`) or a
/// directory that is too small (`directory-full`). Docs/protocol.md gives the rules.
public enum CapacityRejection: String, CaseIterable, Sendable {
    /// Over `CapacityRecord.maxBytes`: checked before anything is parsed.
    case oversize
    /// Not a canonical record of a known format.
    case malformed
    /// An older sequence number than the record held for that key.
    case stale
    /// The held sequence number with different bytes: one of the two copies is forged (or a
    /// node signed two records with one seqno); the held one stays, no signature is checked.
    case conflict
    /// Issued further in the future than the allowed clock skew.
    case future
    /// Already expired on arrival.
    case expired
    /// Expires before it was issued, or claims to live longer than `CapacityConfig.maxLifetime`.
    case badLifetime = "bad-lifetime"
    /// More new records for one key than its allowance (a key that churns would cost every
    /// node of the overlay a signature check and a flood each time).
    case rateLimited = "rate-limited"
    /// A new key while the directory holds `maxRecords` and no neighbour is over its share to
    /// make room (`CapacityDirectory`, "Fair shares"; records evicted to make room are counted
    /// apart, `capacity-evicted`).
    case directoryFull = "directory-full"
    /// The signature does not verify against the key in the record.
    case badSignature = "bad-signature"
}
