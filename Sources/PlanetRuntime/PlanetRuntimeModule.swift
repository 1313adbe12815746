public enum PlanetRuntimeModule {}
