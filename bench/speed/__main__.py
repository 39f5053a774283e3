"""Entry point of `python -m bench.speed` (from the repository root), for the run and its child subcommands."""

from bench.speed.cli import main

main()
