"""Where the benchmark's files are and the fixed knobs of a run; shared by every module of the package."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "bench" / ".work" / "speed"
OUT = REPO / "bench" / "results" / "speed.md"
REPLICAS = REPO / "bench" / "results" / "replicas.md"  # bench/replicas.py's table, kept as speed.md's last section
BIN = REPO / ".venv" / "bin"
PY = str(BIN / "python")
KB = str(BIN / "kb")
CHILD = [PY, "-m", "bench.speed"]  # how the parent starts a child subcommand (cwd: REPO)
CLIENTS = (1, 8, 32)
SERVER_THREADS = 4  # `kb serve --threads` default (one process)


def rel(p) -> str:
    """A path relative to the repository when it is inside it: the results file must not name this machine."""
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)
