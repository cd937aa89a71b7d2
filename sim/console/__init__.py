"""`pkilab console`: an interactive IOS console on a simulated network."""
