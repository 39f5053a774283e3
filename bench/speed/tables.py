"""Markdown tables from the record's numbers: the formatting every table of the report shares.

Kept apart from the prose so that the table shapes (headers, rows, columns)
are in one place; tests/test_bench_speed.py pins them against the published
bench/results/speed.md.
"""

from __future__ import annotations

import statistics

from bench.speed.record import Cell, EmbedSetting, Results, ReindexRun

CELL_HEAD = ["knowledge base", "mix", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
             "never-seen queries", "server CPU ms/req", "server RSS MB (peak)"]
PEER_HEAD = ["peer settings", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "CPU ms/req",
             "RSS MB (master + workers)"]
VARIANT_HEAD = ["setting", "knowledge base", "mix", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                "CPU ms/req", "RSS MB (all processes)"]
INDEX_HEAD = ["knowledge base", "articles", "chunks", "`kb index` wall s", "chunks embedded",
              "chunks/s without embedding", "real embedding rate, chunks/s", "from scratch, chunks/s", "peak RSS MB"]
STAGES = ["cache", "detect", "embed", "dense", "keyword", "fusion", "render", "total", "CPU time (all threads)"]


def table(headers: list[str], rows: list[list]) -> str:
    """A markdown table; floats with one decimal below 100 and none above, with thousands separators."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows])


def ms(v: float) -> str:
    """Milliseconds with two decimals, or two significant digits below 0.1 ms (a cache hit)."""
    return f"{v:.2f}" if v >= 0.1 else f"{v:.2g}"


def at(cells: list[Cell], clients: int) -> Cell | None:
    return next((c for c in cells if c.clients == clients), None)


def embed_row(res: Results, key: str) -> EmbedSetting | None:
    return next((e for e in res.embedder if e.key == key), None)


def embed_limit(res: Results) -> float:
    """The embedder's limit: the best queries/s of the settings without competing processes."""
    return max(e.qps for e in res.embedder if not e.hogs)


def reindex_median(runs: list[ReindexRun], phase: str) -> float:
    return statistics.median(r.phases.get(phase, 0.0) for r in runs)


def cell_rows(label: str, mix: str, cells: list[Cell]) -> list[list]:
    """Rows of CELL_HEAD; "(wrapped)" when a cell sent more requests than it had lines, so some repeated."""
    return [[label, mix, c.clients, c.rps, c.p50, c.p95, c.p99, c.errors,
             f"{100 * c.new:.0f}%" + (" (wrapped)" if c.wrapped else ""), c.cpu_ms, c.rss] for c in cells]


def search_table(res: Results) -> str:
    rows = []
    kbs = [("sample", res.sample)] + [(name, kb.search) for name, kb in res.large.items()]
    for name, cells in kbs:
        rows += cell_rows(name, "all-distinct", cells.distinct) + cell_rows(name, "help-center mix", cells.mix)
    return table(CELL_HEAD, rows)


def suggest_table(res: Results) -> str:
    return table(CELL_HEAD, cell_rows("sample", "distinct tickets", res.suggest.distinct)
                 + cell_rows("sample", "ticket mix", res.suggest.mix))


def peer_table(res: Results) -> str:
    labels = ((res.peer.defaults, f"defaults ({res.facts.nproc} OpenMP threads per worker)"),
              (res.peer.omp1, "OMP_NUM_THREADS=1"))
    return table(PEER_HEAD, [[label, c.clients, c.rps, c.p50, c.p95, c.p99, c.errors, c.cpu_ms, c.rss]
                             for cells, label in labels for c in cells])


def embedder_table(res: Results) -> str:
    return table(["setting", "queries/s", "CPU ms/query"], [[e.label, e.qps, e.cpu_ms] for e in res.embedder])


def variant_table(res: Results) -> str:
    return table(VARIANT_HEAD, [[v.label, v.kb, c.mix, c.clients, c.rps, c.p50, c.p95, c.p99, c.errors, c.cpu_ms,
                                 c.rss] for v in res.variants for c in v.cells])


def indexing_rows(res: Results) -> list[list]:
    """The sample's real from-scratch index, and the larger ones with their embedding time extrapolated."""
    rows = []
    s = res.index_sample
    if s:
        rows.append(["sample (real)", s.articles, s.chunks, s.wall, f"{s.embedded} (real)", "—",
                     f"all {s.chunks} chunks (~{res.sample_tokens:.0f} tokens), in the wall time",
                     f"{s.chunks / s.wall:.1f} (measured)", s.peak_mb])
    for name, kb in res.large.items():
        ix, em = kb.index, kb.embed
        embed_s = ix.chunks / em.rate
        rows.append([f"{name} (synthesised)", ix.articles, ix.chunks, ix.wall,
                     f"0 (cache); would take {embed_s / 60:.0f} min at {em.rate:.1f} chunks/s",
                     f"{ix.chunks / ix.wall:.0f}", f"{em.rate:.1f} on {em.n} chunks (~{em.tokens:.0f} tokens)",
                     f"{ix.chunks / (ix.wall + embed_s):.1f} (extrapolated)", ix.peak_mb])
    return rows


def reindex_runs_table(runs: list[ReindexRun]) -> str:
    return table(["run", "indexer.job.run s", "chunks embedded", "chunks in index", "peak RSS MB"],
                 [[i + 1, r.seconds, r.embedded, r.chunks, r.maxrss_mb] for i, r in enumerate(runs)])


def phases_by_median(runs: list[ReindexRun]) -> list[str]:
    return sorted(runs[0].phases, key=lambda k: -reindex_median(runs, k))


def reindex_phases_table(runs: list[ReindexRun]) -> str:
    return table(["phase", "s"], [[k, f"{reindex_median(runs, k):.3f}"] for k in phases_by_median(runs)])


def timings_table(res: Results) -> str:
    """One column per timings group, one row per stage: p50 / p95, "—" where a group has no such stage."""
    cols = res.timings
    head = [f"{c} (n={t.n}" + (f", {t.skipped} left out" if t.skipped else "") + ")" for c, t in cols.items()]
    rows = [[k] + [f"{ms(t.stages[k].p50)} / {ms(t.stages[k].p95)}" if k in t.stages else "—"
                   for t in cols.values()] for k in STAGES]
    return table(["stage (ms, p50 / p95)"] + head, rows)


def synthesis_table(res: Results) -> str:
    return table(["knowledge base", "articles written", "translation groups", "synthesis s"],
                 [[n, kb.synth.articles, kb.synth.groups, kb.synth.seconds] for n, kb in res.large.items()])


def loads_table(res: Results) -> str:
    return table(["group", "load average (1, 5, 15 min)"], [[g, la] for g, la in res.log.loads])
