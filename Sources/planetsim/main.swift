print("planetsim: not implemented yet")
