"""Every process the benchmark starts: run to completion with its peak memory, and stopped at the end.

Each process gets its own session (process group), so stopping it also stops
what it started (gunicorn's workers, a shell's busy loop); `stop_all` runs at
the end of every run, also on errors and Ctrl-C.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from bench.speed import runlog
from bench.speed.sampling import peak_rss_mb
from bench.speed.settings import REPO, WORK

PROCS: list[subprocess.Popen] = []


def track(proc: subprocess.Popen) -> subprocess.Popen:
    """Remember a started process so that `stop_all` stops it."""
    PROCS.append(proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL after 15 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


def stop_all() -> None:
    for p in PROCS:
        stop(p)


def run_measured(group: str, argv, env=None, log_env=()) -> tuple[str, float, float]:
    """Run a command to completion: (stdout, wall seconds, peak RSS MB: VmHWM sampled every 50 ms).

    Output goes to files under bench/.work/speed/logs, named after the group,
    so a failure can be read after the run.
    """
    runlog.command(group, argv, log_env)
    base = WORK / "logs" / f"{re.sub(r'[^A-Za-z0-9]+', '_', group)}-{len(runlog.LOG.commands)}"
    peak = 0.0
    with open(f"{base}.out", "w") as o, open(f"{base}.err", "w") as e:
        t = time.perf_counter()
        proc = track(subprocess.Popen(argv, env=env, stdout=o, stderr=e, cwd=REPO, start_new_session=True))
        while True:
            done, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if done:
                break
            peak = max(peak, peak_rss_mb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n"
                           f"{Path(f'{base}.err').read_text()[-3000:]}")
    return Path(f"{base}.out").read_text(), wall, peak
