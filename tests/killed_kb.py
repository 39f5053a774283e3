"""`python -m tests.killed_kb POINT index ARGS`: `kb index` (with `--model fake` available, as in
tests/fake_kb.py) that kills itself with SIGKILL at POINT, a named moment of its run.

A kill sent after a delay lands wherever the machine's speed puts it: in the model's loading on a slow
machine, after the publish on a fast one, so such a test covers a different moment on every run and may
never cover the one that matters. Here the process kills itself from inside the run, so each test covers
its moment on every machine, and the test can check that it did (the exit status is -SIGKILL, and each
moment leaves its own traces on disk).

POINT is, in the order a run passes them:
- a stage the indexer reports on its stage callback (indexer/job.py `run(report=...)`): `scan` (nothing
  written yet), `embed` (the build folder made, no passage embedded), `embed:N` (at least N passages
  embedded and in the embedding cache), `publish` (the build complete but for its manifest), `upload`
  (published on this disk, about to go to the shared database; only with KB_DATABASE_URL);
- or a moment inside a step, between two calls the step makes: `switch` (the build renamed to its
  generation folder, CURRENT not yet switched to it), `upload-part` (the upload's transaction open, the
  first part of a file inserted).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

STAGES = ("scan", "embed", "publish", "upload")
ROOT = Path(__file__).resolve().parent.parent


def run_killed(point: str, articles: Path, index: Path, model: str | None = "fake", env: dict | None = None) -> str:
    """`kb index` in a child process that kills itself at `point`; fails the test unless it died there.

    `model=None` indexes with the default (real) model. Returns what the child printed on stderr.
    """
    cmd = [sys.executable, "-m", "tests.killed_kb", point, "index", "--articles", str(articles), "--index",
           str(index), "-q", *(["--model", model] if model else [])]
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                                                **(env or {})}, capture_output=True, text=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, (f"`kb index` was to kill itself at {point!r} but exited with "
                                                f"{done.returncode}:\n{done.stderr[-3000:]}")
    return done.stderr


def die():
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def at_stage(stage: str, at_least: int = 0):
    """Die when the indexer reports `stage` with `done` >= at_least, after passing the report on."""
    from indexer import job

    run = job.run

    def run_then_die(*args, report=None, **kw):
        def hear(name: str, done: int, total: int):
            if report is not None:
                report(name, done, total)
            if name == stage and done >= at_least:
                die()

        return run(*args, report=hear, **kw)

    job.run = run_then_die  # `kb index` imports it when it runs


def before_switch():
    from kb.index import format as index_format

    index_format.switch = lambda *a, **kw: die()


def during_upload():
    from kb.storage import generations
    from kb.storage.schema import generation_files

    insert, parts = generations.insert, []

    def insert_or_die(table):
        if table is generation_files:
            parts.append(1)
            if len(parts) == 2:  # the first part went into the open transaction
                die()
        return insert(table)

    generations.insert = insert_or_die


def arm(point: str):
    stage, _, at_least = point.partition(":")
    if stage in STAGES:
        at_stage(stage, int(at_least or 0))
    elif point == "switch":
        before_switch()
    elif point == "upload-part":
        during_upload()
    else:
        raise SystemExit(f"tests.killed_kb: unknown point {point!r}; expected one of {STAGES}, "
                         "STAGE:N, 'switch' or 'upload-part'")


if __name__ == "__main__":
    from cli.main import cli
    from tests.fake_kb import register

    register()
    arm(sys.argv[1])
    cli(sys.argv[2:], prog_name="kb")
