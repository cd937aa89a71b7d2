"""sim.net package."""
