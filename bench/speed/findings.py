"""The report's judgements: the targets, pass or fail, and what dominates the cost, in numbers from the run.

Written from the record alone, so the sentences always match the tables
below them in the same file.
"""

from __future__ import annotations

import statistics

from bench.speed.record import Results
from bench.speed.tables import at, embed_limit, embed_row, ms, phases_by_median, reindex_median

TARGETS = {"share_of_limit": 0.90, "x_peer": 3.0, "mix_p50": 30.0, "mix_p99": 150.0, "mix_rps": 150.0,
           "reindex_s": 3.0, "big_p50": 60.0, "big_rss_mb": 1500.0}
SEARCH_STAGES = ("detect", "embed", "dense", "keyword", "fusion", "render")
NEXT_STEP = {  # what a stage is and how to cut it, when it dominates a search
    "keyword": "It is bm25 over every FTS5 match of the query's words, and common words match a large share of the "
               "chunks: the next step is to match fewer rows (leave out the most frequent words, or cap the "
               "matches), with a quality check.",
    "embed": "The embedder's cost does not grow with the knowledge base: only shorter inputs, a smaller model or "
             "more cores cut it.",
    "dense": "The vector index's walk grows with the knowledge base: HNSW's efSearch is the knob, with a quality "
             "check.",
    "fusion": "Fusion reads every candidate's chunk and article row from SQLite: fewer candidates is the knob.",
    "render": "Rendering builds snippets for the shown results: the next thing to cut.",
    "detect": "Language detection: the next thing to cut."}


def ok(passed: bool) -> str:
    return "**pass**" if passed else "**FAIL**"


def verdicts(res: Results) -> list[list]:
    """(target, measured, target value, result) for the code as committed."""
    T, limit = TARGETS, embed_limit(res)
    best = max(res.sample.distinct, key=lambda c: c.rps)
    d8, peer8, mix8 = at(res.sample.distinct, 8), at(res.peer.defaults, 8), at(res.sample.mix, 8)
    rows = [
        ["all-distinct /api/search, share of the embedder's limit",
         f"{best.rps:.1f} req/s ({best.clients} clients) = {100 * best.rps / limit:.0f}% of {limit:.1f} q/s",
         f"≥ {100 * T['share_of_limit']:.0f}%", ok(best.rps >= T["share_of_limit"] * limit)],
        ["all-distinct /api/search vs the peer (defaults), 8 clients",
         f"{d8.rps:.1f} vs {peer8.rps:.1f} req/s = {d8.rps / peer8.rps:.1f}×",
         f"≥ {T['x_peer']:.0f}×", ok(d8.rps >= T["x_peer"] * peer8.rps)],
        ["help-center mix, 8 clients: p50", f"{mix8.p50:.0f} ms", f"≤ {T['mix_p50']:.0f} ms",
         ok(mix8.p50 <= T["mix_p50"])],
        ["help-center mix, 8 clients: p99", f"{mix8.p99:.0f} ms", f"≤ {T['mix_p99']:.0f} ms",
         ok(mix8.p99 <= T["mix_p99"])],
        ["help-center mix, 8 clients: throughput", f"{mix8.rps:.0f} req/s", f"≥ {T['mix_rps']:.0f} req/s",
         ok(mix8.rps >= T["mix_rps"])]]
    return rows + large_verdicts(res)


def large_verdicts(res: Results) -> list[list]:
    """The targets of the synthesised knowledge bases, when they were measured."""
    T, rows = TARGETS, []
    if "10k" in res.large:
        runs = res.large["10k"].reindex.runs
        med = statistics.median(r.seconds for r in runs)
        rows.append([f"re-index after one change, 10k chunks (indexer.job.run, median of {len(runs)})",
                     f"{med:.2f} s", f"≤ {T['reindex_s']:.0f} s", ok(med <= T["reindex_s"])])
    if "100k" in res.large:
        search = res.large["100k"].search
        c1 = at(search.distinct, 1)
        rss = max(c.rss for c in search.distinct + search.mix)
        rows.append(["100k chunks, 1 client, all-distinct: p50", f"{c1.p50:.0f} ms", f"≤ {T['big_p50']:.0f} ms",
                     ok(c1.p50 <= T["big_p50"])])
        rows.append(["100k chunks: server RSS (peak under load)", f"{rss:.0f} MB", f"< {T['big_rss_mb']:.0f} MB",
                     ok(rss < T["big_rss_mb"])])
    return rows


def ranked_stages(stages: dict) -> list[str]:
    """The search stages, largest median first."""
    return sorted((k for k in SEARCH_STAGES if k in stages), key=lambda k: -stages[k].p50)


def embedder_findings(res: Results) -> list[str]:
    """A new query's stages in-process, and the embedder's rate in the committed and the previous design."""
    sample = res.timings["sample, distinct queries"].stages
    top = ranked_stages(sample)
    one, cn, pn = embed_row(res, "committed-1"), embed_row(res, "committed-n"), embed_row(res, "previous-n")
    cnb, pnb = embed_row(res, "committed-n-busy"), embed_row(res, "previous-n-busy")
    return [
        f"- **A new query, in-process on the sample:** `{top[0]}` is {sample[top[0]].p50:.1f} of "
        f"{sample['total'].p50:.1f} ms (p50), then `{top[1]}` ({sample[top[1]].p50:.1f} ms). Embedding one "
        f"query costs ~{one.cpu_ms:.0f} ms of CPU on one core.",
        f"- **The embedder.** Called from {cn.clients} threads, as waitress's threads call it, the committed "
        f"pool of single-threaded engines embeds {cn.qps:.0f} queries/s, {cn.qps / pn.qps:.1f}× the "
        f"previous design (one engine with OpenMP threads behind a lock: {pn.qps:.0f}); this machine's limit is "
        f"{embed_limit(res):.0f}. With {cnb.hogs} busy loops competing for the cores: {cnb.qps:.0f} against "
        f"{pnb.qps:.0f} queries/s."]


def cpu_finding(res: Results) -> str:
    """The server's CPU per request split into embedding, the rest of the search and the web layer."""
    ip = res.timings["sample, distinct queries"].stages["CPU time (all threads)"].mean
    one, d8 = embed_row(res, "committed-1"), at(res.sample.distinct, 8)
    parts = {"embedding the query": one.cpu_ms, "search work besides embedding": max(ip - one.cpu_ms, 0.0),
             "the web layer": max(d8.cpu_ms - ip, 0.0)}
    biggest = max(parts, key=parts.get)
    rest = max((k for k in parts if k != "embedding the query"), key=parts.get)
    cores, limit = res.facts.nproc, embed_limit(res)
    return (
        f"- **Where the server's CPU goes (all-distinct, 8 clients):** {d8.cpu_ms:.0f} ms per request: "
        f"~{parts['embedding the query']:.0f} embedding the query, ~{parts['search work besides embedding']:.0f} in "
        f"the rest of the search (detection, keyword, fusion, snippets; a whole in-process search takes {ip:.0f} ms "
        f"of CPU, mean) and ~{parts['the web layer']:.0f} in the web layer (HTTP, JSON, the activity log). "
        f"At that cost {cores} cores allow at most {cores * 1000 / d8.cpu_ms:.0f} req/s; the server reached "
        f"{d8.rps:.1f} ({100 * d8.rps / limit:.0f}% of the embedder's limit). "
        + (f"Embedding is the largest part; outside it, the biggest is {rest}: the next thing to cut."
           if biggest == "embedding the query" else f"The largest part is {biggest}: the next thing to cut."))


def mix_finding(res: Results) -> list[str]:
    """What the response cache does for the help-center mix (when the repeat timings were measured)."""
    rep = res.timings.get("sample, the same queries again (response cache)")
    if not rep:
        return []
    sample = res.timings["sample, distinct queries"].stages
    d8, mix8 = at(res.sample.distinct, 8), at(res.sample.mix, 8)
    return [
        f"- **The help-center mix** (8 clients): {100 * mix8.new:.0f}% of the requests were never seen before "
        f"on that server; a repeat comes from the response cache in {ms(rep.stages['total'].p50)} ms "
        f"in-process (p50) instead of {sample['total'].p50:.1f} ms for a new query. The mix costs "
        f"{mix8.cpu_ms:.0f} ms of server CPU per request, and its new queries at the all-distinct cost "
        f"({d8.cpu_ms:.0f} ms) account for ~{mix8.new * d8.cpu_ms:.0f} of them; it serves "
        f"{mix8.rps:.0f} req/s (p50 {mix8.p50:.0f} ms, p99 {mix8.p99:.0f} ms). What makes a new query "
        "cheaper makes the mix faster."]


def large_findings(res: Results) -> list[str]:
    """What dominates at 100k chunks, and the largest phases of a re-index at 10k."""
    out = []
    if "100k, distinct queries" in res.timings:
        big, sample = res.timings["100k, distinct queries"].stages, res.timings["sample, distinct queries"].stages
        k = ranked_stages(big)[0]
        out.append(f"- **At 100k chunks** `{k}` dominates: {big[k].p50:.1f} of {big['total'].p50:.1f} ms "
                   f"(p50; {sample[k].p50:.1f} ms on the sample). {NEXT_STEP[k]}")
    if "10k" in res.large:
        runs = res.large["10k"].reindex.runs
        phases = phases_by_median(runs)
        out.append(f"- **Re-indexing one article** at 10k chunks: {statistics.median(r.seconds for r in runs):.2f} s"
                   f" (median); the largest phase is \"{phases[0]}\" ({reindex_median(runs, phases[0]):.2f} s), then "
                   f"\"{phases[1]}\" ({reindex_median(runs, phases[1]):.2f} s).")
    return out


def findings(res: Results) -> list[str]:
    """What dominates the cost of the committed code, in numbers from this run."""
    return (["## What dominates the cost", ""] + embedder_findings(res) + [cpu_finding(res)] + mix_finding(res)
            + large_findings(res) + [""])
