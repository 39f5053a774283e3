"""The locks in requirements/ agree with pyproject.toml, and this environment is the locked one.

A new user installs the locks (`make run`, `make test`), never pyproject's ranges, so
the versions CI tested are the versions everyone gets. These tests fail when someone
edits the dependencies without `make lock`, or when the environment drifted from it.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
VIA_PYPROJECT = "polykb (pyproject.toml)"


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def declared(extras: list[str]) -> dict[str, Requirement]:
    reqs = list(project()["dependencies"])
    for extra in extras:
        reqs += project()["optional-dependencies"][extra]
    return {canonicalize_name(r.name): r for r in map(Requirement, reqs)}


def read_lock(name: str) -> tuple[dict[str, str], set[str]]:
    """({package: pinned version}, the packages the lock says pyproject asked for)."""
    pins, direct, current = {}, set(), None
    for line in (LOCKS / name).read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line)
        if m:
            current = canonicalize_name(m.group(1))
            pins[current] = m.group(2)
        elif current and VIA_PYPROJECT in line:
            direct.add(current)
    return pins, direct


LOCK_EXTRAS = {"run.txt": [], "sbert.txt": ["sbert"], "test.txt": sorted(project()["optional-dependencies"])}


@pytest.mark.parametrize("lock", sorted(LOCK_EXTRAS))
def test_each_lock_pins_exactly_what_pyproject_asks_for(lock):
    pins, direct = read_lock(lock)
    wanted = declared(LOCK_EXTRAS[lock])
    hint = f"requirements/{lock} is out of date with pyproject.toml: run `make lock`"
    assert direct == set(wanted), f"{hint} (only in pyproject: {sorted(set(wanted) - direct)}, " \
                                  f"only in the lock: {sorted(direct - set(wanted))})"
    for name, req in wanted.items():
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"{hint}: {name}=={pins[name]} does not satisfy {req}"


def test_the_locks_agree_on_every_shared_package():
    full, _ = read_lock("test.txt")
    for lock in ("run.txt", "sbert.txt"):
        pins, _ = read_lock(lock)
        differ = {n: (v, full.get(n)) for n, v in pins.items() if full.get(n) != v}
        assert not differ, f"requirements/{lock} and test.txt pin different versions: {differ}; run `make lock`"


def test_this_environment_is_the_locked_one():
    """`make test` installed requirements/test.txt: what runs here is what the lock says."""
    pins, _ = read_lock("test.txt")
    wrong = {}
    for name, version in pins.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != version:
            wrong[name] = (version, have)
    assert not wrong, f"installed versions differ from requirements/test.txt (locked, installed): {wrong}; " \
                      f"run `make test` from a clean venv (rm -rf .venv)"
