"""`python -m sim` is the same as the `pkilab` command."""

from sim.cli import main

if __name__ == "__main__":
    main()
