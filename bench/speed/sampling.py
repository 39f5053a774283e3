"""Memory and CPU of a process and its descendants, read from /proc while it runs.

A server's memory is what its whole tree holds (gunicorn's master and
workers), and a command's peak is sampled from VmHWM rather than taken from
ru_maxrss, which would include the parent's memory at fork.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants, from /proc/<pid>/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (t / "children").read_text().split()]
        except OSError:
            continue
    return out


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (shared pages are counted in each)."""
    total = 0
    for p in tree_pids(pid):
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text()).group(1))
        except (OSError, AttributeError):
            continue
    return total / 1024


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by a process and its descendants."""
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a running process: the peak of its own address space (ru_maxrss would include the parent's
    memory at fork, which Linux carries over exec)."""
    try:
        return int(re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


class RssSampler(threading.Thread):
    """Peak resident memory of a process tree while a cell runs, sampled every half second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0.0, threading.Event()

    def run(self):
        while not self._done.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self._done.wait(0.5)

    def finish(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, tree_rss_mb(self.pid))
