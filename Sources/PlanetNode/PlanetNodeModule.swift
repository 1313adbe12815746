/// The node: links, routing, end-to-end sessions and the data plane composed, sans-I/O.
public enum PlanetNodeModule {}
