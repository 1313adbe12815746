public enum PlanetVersion {
    public static let string = "0.1.0"
    /// The link and overlay wire format version; see Docs/protocol.md.
    public static let wire: UInt8 = 1
}
