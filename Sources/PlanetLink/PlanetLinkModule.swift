/// The link layer: authenticated, encrypted UDP links between neighbours (Docs/protocol.md, "Link layer").
public enum PlanetLinkModule {}
