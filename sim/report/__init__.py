"""sim.report package."""
