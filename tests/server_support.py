"""Real servers for the tests: Debian's PostgreSQL and redis-server, each started once per session in a
temporary folder on a free port, and stopped at the end.

`make test` installs the `postgresql` and `redis-server` packages when they are missing (it runs as root in
CI); a test that needs a server skips, saying why, only when the binaries are not there, and fails instead
under KB_REQUIRE_SERVERS=1 (.ci/run sets it: CI must run them).

PostgreSQL refuses to run as root: as root the cluster is made and run by the `postgres` user (`runuser`),
in a folder it owns; as anyone else, by that user. It listens on a Unix socket in its folder only (no TCP),
with fsync off: the tests need a real server, not a durable one. Each test gets a database of its own.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.support import missing, wait_until

INSTALL = "run `make test` as root (it installs them) or `apt-get install postgresql redis-server`"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Postgres:
    """One PostgreSQL cluster: `url(db)` for SQLAlchemy, `create()`/`drop()` for a database per test."""

    def __init__(self, bin_dir: Path, folder: Path, port: int):
        self.bin, self.folder, self.port = bin_dir, folder, port

    def start(self):
        data = self.folder / "data"
        _as_server_user([str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                         "--locale=C.UTF-8", "--no-sync"])
        options = f"-p {self.port} -k {self.folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        _as_server_user([str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.folder / "log"),
                         "-w", "-t", "60", "start"])

    def stop(self):
        _as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"])

    def restart(self):
        """A restart (fast shutdown): every open connection is cut, as when a server fails over."""
        _as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                         "-m", "fast", "-w", "-t", "60", "restart"])  # -l: or the server holds our output pipe open

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.folder}&port={self.port}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        return _as_server_user([str(self.bin / "psql"), "-h", str(self.folder), "-p", str(self.port), "-U",
                                "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql]).stdout

    def create(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def drop(self, name: str):
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def require_postgres() -> Path:
    """Debian's PostgreSQL binaries; skips the test without them (fails it under KB_REQUIRE_SERVERS=1)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        missing("PostgreSQL (/usr/lib/postgresql/*/bin/pg_ctl)", INSTALL)
    return bin_dir


def require_redis():
    if shutil.which("redis-server") is None:
        missing("redis-server", INSTALL)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (skips when Debian's postgresql is not installed)."""
    bin_dir = require_postgres()
    folder = Path(tempfile.mkdtemp(prefix="polykb-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = Postgres(bin_dir, folder, free_port())
    try:
        server.start()
    except subprocess.CalledProcessError as e:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {e.stderr}\n{log}") from None
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres):
    """The URL of a new, empty database on the session's server, dropped after the test."""
    name = postgres.create()
    yield postgres.url(name)
    postgres.drop(name)


class Redis:
    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.pong, 30, f"redis-server to answer PING on port {self.port}", interval=0.05)

    def pong(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.proc.returncode} before answering on {self.port}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)


@pytest.fixture(scope="session")
def redis_server():
    """A redis-server for the session (skips when Debian's redis-server is not installed)."""
    require_redis()
    folder = Path(tempfile.mkdtemp(prefix="polykb-redis-"))
    server = Redis(folder, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
