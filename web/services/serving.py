"""Running the app: N gunicorn processes on Linux, or waitress threads in one process.

Why processes: a new query spends ~6 ms of CPU outside the embedder
(detection, keyword side, fusion, sections, snippets, logging, HTTP; most of
it Python: bench/results/replicas.md), and the GIL runs that one thread at a
time however many threads waitress has. With `--workers N`
each process loads its own app and its own embedder, with one single-threaded
engine (KB_EMBED_ENGINES=1) and one OpenMP thread (OMP_NUM_THREADS=1) unless
the environment says otherwise: N processes then use N cores without their
engines or OpenMP teams fighting over them.

The app is never preloaded in the parent: the embedder's engine pool and the
searcher's keyword threads do not survive a fork, so each worker builds its
own after forking. waitress stays where gunicorn cannot run (not a POSIX
system, or gunicorn not installed): there `--workers` becomes more threads.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable

from flask import Flask

ENGINE_ENV = {"KB_EMBED_ENGINES": "1", "OMP_NUM_THREADS": "1"}  # per worker process, unless already set
WORKER_TIMEOUT = 120  # seconds a request may take before gunicorn restarts its worker (a 20,000-character ticket)


def gunicorn_available() -> bool:
    """gunicorn needs fork and fcntl (Linux, the BSDs, macOS); on Windows only waitress runs."""
    if sys.platform.startswith("win"):
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def serve(factory: Callable[[], Flask], host: str, port: int, workers: int = 1, threads: int = 4,
          log=print) -> str:
    """Serve the app made by `factory` until stopped; returns the server used ("gunicorn" or "waitress")."""
    if workers > 1 and gunicorn_available():
        for name, value in ENGINE_ENV.items():
            os.environ.setdefault(name, value)
        gunicorn_app(factory, {"bind": _bind(host, port), "workers": workers, "threads": threads,
                            "worker_class": "gthread", "timeout": WORKER_TIMEOUT, "graceful_timeout": 20,
                            "proc_name": "polykb", "post_fork": _post_fork,
                            "control_socket_disable": True}).run()  # one per host by default: replicas would collide
        return "gunicorn"
    if workers > 1:
        log(f"gunicorn cannot run here ({sys.platform}): serving {workers * threads} threads in one process "
            f"(waitress) instead of {workers} processes")
    from waitress import serve as waitress_serve

    # Requests beyond the threads wait in waitress's queue, as they should; waitress warns "Task queue depth
    # is N" for each one that does, which under steady load was a log line (and its formatting: ~0.2 ms of
    # the one thread that parses every request) per request. Overload still shows: in latency and 503s.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress_serve(factory(), host=host, port=port, threads=workers * threads, ident="polykb")
    return "waitress"


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _post_fork(server, worker):
    """A worker loads its own models, even if the parent loaded one to index first."""
    import kb.embeddings

    kb.embeddings.forget_loaded()


def gunicorn_app(factory: Callable[[], Flask], options: dict):
    """gunicorn's documented custom-application shape: settings from a dict, the app from the factory."""
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):
        def __init__(self, factory, options):
            self.factory, self.options = factory, options
            super().__init__()

        def load_config(self):
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self):
            return self.factory()

    return App(factory, options)
