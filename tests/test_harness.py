"""The test harness itself: waiting without sleeps, the rule for missing servers, and kills that land where
they are told to (tests/support.py, tests/server_support.py, tests/nginx_support.py, tests/browser_support.py,
tests/killed_kb.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading

import pytest

from tests import browser_support, killed_kb, nginx_support, server_support
from tests.support import ROOT, SMALL_KB, wait_until, write_tree


def test_wait_until_returns_what_the_condition_found_once_it_holds():
    ready = threading.Event()
    threading.Timer(0.05, ready.set).start()
    assert wait_until(lambda: ready.is_set() and "ready", 30, "the timer") == "ready"


def test_wait_until_fails_naming_what_it_waited_for():
    with pytest.raises(AssertionError, match=r"waited 0\.2 s for the index to appear: it did not happen"):
        wait_until(lambda: None, 0.2, "the index to appear")


REQUIREMENTS = {
    "PostgreSQL": (server_support.require_postgres, server_support, "postgres_bin", lambda: None),
    "redis-server": (server_support.require_redis, shutil, "which", lambda name: None),
    "nginx": (nginx_support.require_nginx, nginx_support, "nginx_binary", lambda: None),
    "chromium": (browser_support.require_chromium, browser_support, "CHROMIUM", "/nonexistent/chromium"),
}


@pytest.mark.parametrize("what", REQUIREMENTS)
def test_a_missing_server_skips_its_tests_but_fails_them_under_kb_require_servers(monkeypatch, what):
    require, owner, name, absent = REQUIREMENTS[what]
    monkeypatch.setattr(owner, name, absent)
    monkeypatch.delenv("KB_REQUIRE_SERVERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"{what}.* is not installed: .*(make|apt)"):
        require()
    monkeypatch.setenv("KB_REQUIRE_SERVERS", "1")  # as .ci/run sets it
    with pytest.raises(pytest.fail.Exception, match=f"{what}.* is not installed and KB_REQUIRE_SERVERS=1 requires it"):
        require()


def test_ci_requires_the_servers_and_make_test_installs_them():
    assert "export KB_REQUIRE_SERVERS=1" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*\bbrowser servers\b", makefile, re.M)
    installed = {p for line in re.findall(r"apt-get install -y -qq ([\w -]+?) >/dev/null", makefile) for p in line.split()}
    assert {"chromium", "fonts-noto-cjk", "postgresql", "redis-server", "nginx", "openssl"} <= installed


@pytest.mark.parametrize("target", ["browser", "servers"])
def test_make_warns_when_it_cannot_install_and_stops_under_kb_require_servers(tmp_path, target):
    """Not root (a fake `id`) and none of the programs on PATH: what `make test` does on a developer's machine."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    (tmp_path / "id").write_text("#!/bin/sh\necho 1000\n")
    (tmp_path / "id").chmod(0o755)

    def run(**env):
        return subprocess.run([make, "-s", "-C", str(ROOT), target, "SHELL=/bin/sh"], capture_output=True, text=True,
                              env={"PATH": str(tmp_path), "HOME": str(tmp_path), **env})

    lenient = run()
    assert lenient.returncode == 0 and "will be skipped" in lenient.stdout, lenient
    strict = run(KB_REQUIRE_SERVERS="1")
    assert strict.returncode != 0 and "KB_REQUIRE_SERVERS=1 requires them" in strict.stderr, strict


def test_a_kill_point_the_run_never_reaches_fails_the_test_instead_of_passing_it(tmp_path):
    """`upload` comes only with a shared database: without one the run ends normally, and that must not count
    as a kill survived."""
    articles = write_tree(tmp_path / "articles", {"account/reset.en.md": SMALL_KB["account/reset.en.md"]})
    with pytest.raises(AssertionError, match="was to kill itself at 'upload' but exited with 0"):
        killed_kb.run_killed("upload", articles, tmp_path / "index")


def test_an_unknown_kill_point_is_refused_with_the_known_ones():
    with pytest.raises(SystemExit, match="unknown point 'publsh'.*'scan', 'embed', 'publish', 'upload'"):
        killed_kb.arm("publsh")
