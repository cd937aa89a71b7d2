"""sim.scenario package."""
