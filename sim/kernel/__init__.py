"""sim.kernel package."""
