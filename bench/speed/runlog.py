"""The run's own log: every command run, the load average before each group, and notes.

One log per run, shared by the modules that start processes, because the
report prints every command so that a reader can repeat any number by hand.
"""

from __future__ import annotations

import os
import shlex

from bench.speed.record import RunLog
from bench.speed.settings import REPO, rel

LOG = RunLog()


def command(group: str, argv, env_keys=()) -> None:
    """Record a command line with the environment it depends on: (name, value) pairs, value None for the current."""
    env = " ".join(f"{k}={shlex.quote(os.environ.get(k, '') if v is None else v)}" for k, v in env_keys)
    args = [rel(a) if str(a).startswith(str(REPO)) else str(a) for a in argv]
    LOG.commands.append((group, (env + " " if env else "") + " ".join(shlex.quote(a) for a in args)))


def load(group: str) -> str:
    """Record and print the load average as a group starts: the machine is shared, so every number needs it."""
    la = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    LOG.loads.append((group, la))
    print(f"== {group} (load {la})", flush=True)
    return la


def note(text: str) -> None:
    LOG.notes.append(text)
