/// Loop-free routing with signed origins (Docs/protocol.md, "Routing").
public enum PlanetRoutingModule {}
