"""sim.pki package."""
