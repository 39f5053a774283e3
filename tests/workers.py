"""What the processes some tests spawn run. This module imports nothing of the search stack (numpy, FAISS,
the indexer, Flask): a spawned child imports the module of its target function, and importing a test
module (or tests.support) took 1.4 s of each child's start, most of what a test of four writers cost."""

from __future__ import annotations

from pathlib import Path


def write_feedback(path: Path, n: int, worker: int):
    """`n` feedback rows and `n` logged searches into the activity file at `path`, as one server process would."""
    from kb.storage import open_database, sqlite_url
    from kb.storage.activity import Activity

    act = Activity(open_database(sqlite_url(path)))
    for i in range(n):
        act.add_feedback(f"a-{worker}", "en", i % 2 == 0, f"reason {i}")
        act.log_search(f"q {worker} {i}", "en", "en", "public", "search", [("a", "en", 0.5)], 1)
