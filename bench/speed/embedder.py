"""The embedder's own limit: queries/s of the bare model in child processes, the committed design and the previous.

This is the ceiling the server's all-distinct throughput is judged against
(the report's first target), so it is measured on the same machine in the
same run, alone and with busy loops competing for the cores.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.speed import runlog
from bench.speed.processes import stop, track
from bench.speed.record import EmbedSetting
from bench.speed.settings import CHILD, REPO, SERVER_THREADS, rel


@dataclass(frozen=True)
class EmbedConfig:
    """One setting: `design` "committed" or "previous" (children.PreviousE5), `procs` processes each with
    `engines` engines (0: the default) called from `clients` threads with `batch` queries per call, while
    `hogs` busy loops compete for the cores."""

    key: str
    label: str
    design: str
    procs: int
    engines: int
    clients: int
    batch: int
    hogs: int


def configs(cores: int) -> list[EmbedConfig]:
    """The committed pool of single-threaded engines beside the previous design (`PreviousE5`), from one thread
    and from as many threads as waitress runs, alone and with busy loops competing for the cores, as on a shared
    host."""
    busy, n = cores + 1, SERVER_THREADS
    return [
        EmbedConfig("committed-1", f"committed `E5Embedder()` ({cores} single-threaded engines), 1 calling thread",
                    "committed", 1, 0, 1, 1, 0),
        EmbedConfig("committed-n", f"committed `E5Embedder()`, {n} calling threads (as waitress's threads call it)",
                    "committed", 1, 0, n, 1, 0),
        EmbedConfig("committed-batch", "committed `E5Embedder()`, 1 calling thread, batches of 16 queries (split "
                    "across the engines, as indexing does)", "committed", 1, 0, 1, 16, 0),
        EmbedConfig("previous-1", f"previous design (`PreviousE5`: 1 engine, OpenMP's default {cores} threads, "
                    "behind a lock), 1 calling thread", "previous", 1, 0, 1, 1, 0),
        EmbedConfig("previous-n", f"previous design, {n} calling threads", "previous", 1, 0, n, 1, 0),
        EmbedConfig("limit", f"{cores} processes (= cores), each `E5Embedder(engines=1)` with 1 calling thread",
                    "committed", cores, 1, 1, 1, 0),
        EmbedConfig("committed-n-busy", f"committed `E5Embedder()`, {n} calling threads, {busy} busy-loop "
                    "processes competing", "committed", 1, 0, n, 1, busy),
        EmbedConfig("previous-n-busy", f"previous design, {n} calling threads, {busy} busy-loop processes "
                    "competing", "previous", 1, 0, n, 1, busy)]


def _start_workers(cfg: EmbedConfig, qfile: Path, seconds: float) -> list[subprocess.Popen]:
    """The setting's `_embed` children, started and loaded: each has printed "ready"."""
    workers = []
    for k in range(cfg.procs):
        argv = [*CHILD, "_embed", "--queries", rel(qfile), "--seconds", str(seconds), "--offset", str(k * 2000),
                "--batch", str(cfg.batch), "--design", cfg.design, "--engines", str(cfg.engines),
                "--clients", str(cfg.clients)]
        runlog.command("embedder limit", argv)
        # one session for all workers: with autogroup scheduling a busy machine shares CPU per session, and a
        # server is one session too
        workers.append(track(subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                              cwd=REPO, process_group=0)))
    for p in workers:
        assert p.stdout.readline().strip() == "ready"
    return workers


def measure_setting(cfg: EmbedConfig, qfile: Path, seconds: float) -> EmbedSetting:
    """Start the children, start the busy loops, then every child's clock at once; sum their rates."""
    workers = _start_workers(cfg, qfile, seconds)
    hog = ["timeout", str(int(seconds) + 30), "sh", "-c", "while :; do :; done"]
    busy = [track(subprocess.Popen(hog, process_group=0)) for _ in range(cfg.hogs)]
    if cfg.hogs:
        runlog.command("embedder limit", hog)
    for p in workers:
        p.stdin.write("go\n")
        p.stdin.flush()
    res = [json.loads(p.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1]) for p in workers]
    for b in busy:
        stop(b)
    qps = sum(r["n"] / r["seconds"] for r in res)
    cpu_ms = 1000 * sum(r["cpu"] for r in res) / max(sum(r["n"] for r in res), 1)
    print(f"   {cfg.label}: {qps:.1f} queries/s, {cpu_ms:.1f} CPU ms/query", flush=True)
    return EmbedSetting(**asdict(cfg), qps=qps, cpu_ms=cpu_ms)


def embedder_limit(qfile: Path, seconds: float) -> list[EmbedSetting]:
    """Queries/s the embedder alone reaches on distinct queries: the committed one and the previous design."""
    runlog.load("embedder limit")
    return [measure_setting(cfg, qfile, seconds) for cfg in configs(os.cpu_count() or 1)]
