"""The servers under load: `kb serve`, the peer (bench/peer_app.py under gunicorn), polykb under gunicorn.

Each starts on a free loopback port in its own process group and is ready
when a cheap URL answers 200; the caller stops it after its cells, so every
(knowledge base, mix) pair starts with empty caches.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

from bench.speed import runlog
from bench.speed.processes import stop, track
from bench.speed.sampling import tree_rss_mb
from bench.speed.settings import BIN, KB, REPO, SERVER_THREADS, WORK, rel

READY_S = 180  # loading the model and the index of 100k chunks takes most of a minute on a busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process in its own process group; ready when `ready_path` answers 200."""

    def __init__(self, name, argv, env, port, ready_path, log_env=()):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        (WORK / "logs").mkdir(parents=True, exist_ok=True)
        log = open(WORK / "logs" / f"{name}.log", "w")
        runlog.command(name, argv, log_env)
        self.proc = track(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True, cwd=REPO))
        self._wait_ready(ready_path, log.name)

    def _wait_ready(self, ready_path: str, log_name: str) -> None:
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {rel(log_name)}")
            try:
                with urllib.request.urlopen(self.base + ready_path, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer on {self.base}{ready_path} within {READY_S} s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        return tree_rss_mb(self.proc.pid)

    def stop(self):
        stop(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def kb_server(name, articles, index, env_extra=None, threads=SERVER_THREADS) -> Server:
    """`kb serve` (waitress) with the rate limit off: the load comes from one address."""
    port = free_port()
    env = dict(os.environ, KB_RATELIMIT_ENABLED="false", **(env_extra or {}))
    argv = [KB, "serve", "--articles", rel(articles), "--index", rel(index), "--host", "127.0.0.1",
            "--port", str(port), "--threads", str(threads)]
    log_env = [("KB_RATELIMIT_ENABLED", "false")] + list((env_extra or {}).items())
    return Server(name, argv, env, port, "/api/openapi.json", log_env)


def peer_server(name, omp_threads=None) -> Server:
    """The plain recipe, over the vectors `measure.peer_data` wrote; omp_threads None keeps OpenMP's default."""
    port = free_port()
    env = dict(os.environ, PEER_DATA=str(WORK / "peer"))
    log_env = [("PEER_DATA", rel(WORK / "peer"))]
    if omp_threads:
        env["OMP_NUM_THREADS"] = str(omp_threads)
        log_env.append(("OMP_NUM_THREADS", str(omp_threads)))
    argv = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", "bench", "peer_app:create_app()"]
    return Server(name, argv, env, port, "/search?q=ping", log_env)


def kb_gunicorn(name, index) -> Server:
    """polykb's own app factory under gunicorn, 2 processes: a deployment experiment, no code changed."""
    port = free_port()
    env = dict(os.environ, KB_INDEX=str(index), KB_RATELIMIT_ENABLED="false")
    log_env = [("KB_INDEX", rel(index)), ("KB_RATELIMIT_ENABLED", "false")]
    argv = [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "web:create_app()"]
    return Server(name, argv, env, port, "/api/openapi.json", log_env)


def token_for(index) -> str:
    """A fresh API token for POST /api/suggest (the command is logged; the token is not)."""
    argv = [KB, "token", "add", "bench-speed", "--index", rel(index)]
    runlog.command("suggest", argv)
    return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=REPO).stdout.split()[0]
