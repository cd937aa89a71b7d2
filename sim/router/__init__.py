"""sim.router package."""
