"""The synthesised knowledge bases of 10k and 100k chunks: made, indexed, loaded, and (10k) re-indexed.

bench/synth.py builds them from real text with vectors derived from real
ones, so `kb index` runs its real path without hours of embedding; the real
embedding rate is measured apart on their own chunks (`_passages`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench import synth
from bench.speed import runlog
from bench.speed.children import run_child
from bench.speed.groups import index_kb, search_cells, timings
from bench.speed.record import LargeKB, PassageRate, Reindex, ReindexRun, Synthesis, Units
from bench.speed.settings import REPO, WORK, rel


def source_units(sample_idx: Path) -> tuple[list, list, Units]:
    """The units the larger knowledge bases are made of (the sample's chunks and the shared corpora's
    documents, each with a real vector), the sample's headings, and what embedding the missing ones took."""
    runlog.load("source units")
    units, headings = synth.sample_units(next(sample_idx.glob("gen-*")) / "kb.sqlite")
    shared = synth.shared_units()
    done = run_child("source units", ["_units", "--n", "2"], env=dict(os.environ, OMP_NUM_THREADS="1"),
                     log_env=[("OMP_NUM_THREADS", "1")])
    if synth.attach_vectors(shared, WORK / "paragraphs.sqlite"):
        raise RuntimeError("some source units have no vector in bench/.work/speed/paragraphs.sqlite")
    units += shared
    return units, headings, Units(total=len(units), embedded_now=done["embedded"], seconds=done["seconds"])


def reindex(index: Path, articles: Path, n: int) -> Reindex:
    """Edit one article (a sentence appended to its last section) and re-index, n times, plus once with the CLI."""
    target = sorted((articles / "syn" / "en").rglob("*.md"))[7]
    runlog.note(f"re-index: each run appends one sentence to `{rel(target)}` first")
    runlog.load("re-index after one change")
    runs = []
    for i in range(n):
        with open(target, "a", encoding="utf-8") as f:
            f.write(f"\nNote {time.time_ns()}: edge nodes in region {i} now retry the origin twice before a 502.\n")
        runs.append(ReindexRun(**run_child("re-index", ["_reindex", "--articles", rel(articles),
                                                        "--index", rel(index)])))
        print(f"   re-index {i}: {runs[-1].seconds:.2f} s ({runs[-1].embedded} embedded)", flush=True)
    with open(target, "a", encoding="utf-8") as f:
        f.write(f"\nNote {time.time_ns()}: the CLI run.\n")
    return Reindex(runs=runs, cli=index_kb("re-index (CLI)", articles, index))


def large_kb(name, target, units, headings, sample_idx, pool, mix, seconds) -> LargeKB:
    """One synthesised knowledge base of about `target` chunks, through every group that scales with size."""
    out = WORK / name
    runlog.load(f"{name}: synthesis")
    t = time.perf_counter()
    made = synth.build_kb(out, target, units, headings, REPO / "articles", sample_idx / "embeddings.sqlite")
    made = Synthesis(**made, seconds=time.perf_counter() - t)
    index = index_kb(f"{name}: index from scratch, vectors from the cache", out / "articles", out / "index")
    runlog.load(f"{name}: real embedding rate")
    embed = PassageRate(**run_child(f"{name}: real embedding rate",
                                    ["_passages", "--index", rel(out / "index"), "--n", "96"]))
    again = reindex(out / "index", out / "articles", 3) if name == "10k" else None
    search = search_cells(name, out / "articles", out / "index", pool, mix, seconds, clients=(1, 8))
    return LargeKB(synth=made, index=index, embed=embed, search=search, reindex=again,
                   timings=timings(f"{name} distinct", out / "index", pool[-200:])["first"])
