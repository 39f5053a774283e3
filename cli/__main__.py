"""`python -m cli`: the `kb` command without its console script (subprocesses use it)."""

from cli.main import main

main()
