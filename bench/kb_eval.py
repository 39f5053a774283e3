"""Search on whole knowledge bases: ranking, "answered" and determinism per KB and per query language.

    python bench/kb_eval.py                          # every dev KB (bench/kbsets.py); rewrites bench/results/kbs.md
    python bench/kb_eval.py --kbs sample adguard-dns
    python bench/kb_eval.py --kbs adguard-dns --articles /path/imported-by-kb-import
    python bench/kb_eval.py --no-seeds               # skip the two-hash-seed check (two more model loads a KB)

Each KB is indexed by polykb's own indexer under bench/.work/kbs/<name>/index (embeddings cached by content
and shared between KBs, so a second run embeds nothing new) and every query goes through `Searcher` as the
help center sends it: public audience, ten results, no language given. Per KB and per query language:
nDCG@10 / Recall@10 / MRR@10 of the answerable queries (and of dense retrieval alone, the bar the hybrid
must not fall below), the share of answerable queries answered, and the shares of in-domain and
off-domain queries refused. A query judged answerable whose articles are all missing from the indexed
folder (a sampled site) counts as in-domain. Determinism: the queries are run in two subprocesses with
different PYTHONHASHSEED values and their result lists (ids, order, answered) compared.

As a library, for fitting the "answered" decision or fusion per KB (leave one KB out):

    kb = kbsets.load("adguard-dns")
    index = index_kb(kb)
    outs = outcomes(kb, index, configure=lambda searcher: setattr(searcher, "answer_model", model))
    report = score(kb, outs)              # report.rows["all"]["answered"], report.rows["zh"]["ndcg@10"], ...

`outcomes` runs in this process (the hook may change the searcher's fusion, answer model or threshold);
`seed_agreement` runs the default searcher in two subprocesses. To fit rather than score,
`evidence_records(kb, index)` gives what both retrieval sides found for every query (bench/evidence.py's
record format, which bench/answers_fit.py turns into the answerability signals) with each query's kind;
`--evidence` saves them as bench/.work/evidence/<kb>.kbs.json.gz.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import evidence, kbsets  # noqa: E402
from kb.articles.frontmatter import key_of  # noqa: E402
from kb.embeddings import CachedEmbedder, get_embedder  # noqa: E402
from kb.search import evaluation  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
SEEDS = (1, 2)
BATCH = 64
# No stage may be skipped for time: on a shared machine a batch of query embeddings overruns the served
# budget (4 s), and a keyword-only answer would then be scored as the hybrid's (and differ between runs).
NO_DEADLINES = Budget.unlimited()


@dataclass
class Outcome:
    id: str
    lang: str | None
    kind: str  # effective kind: "answerable" only when a judged article is in the index
    ranked: list[str]  # article ids, best first (ten)
    answered: bool
    dense: list[str] = field(default_factory=list)  # ranked by dense retrieval alone


@dataclass
class Report:
    kb: str
    note: str
    rows: dict[str, dict]  # "all" and each query language → metrics
    demoted: int  # judged answerable, but no judged article in the indexed sample
    seeds: tuple[int, int] | None = None  # (queries with identical results under both seeds, queries)
    seconds: float = 0.0
    # the queries the decision got wrong, and answerable ones whose first result is not judged relevant
    misses: dict[str, list[dict]] = field(default_factory=dict)


def index_kb(kb: kbsets.KB) -> Path:
    """The KB's index (bench/.work/kbs/<name>/index), brought up to date with its articles."""
    index = kbsets.WORK / kb.name / "index"
    evidence.index_with_shared_cache(kb.articles, index)
    return index


def article_ids(folder: Path) -> set[str]:
    """The article ids a folder holds, read from front matter as the indexer reads it."""
    out = set()
    for path in folder.rglob("*.md"):
        key = key_of(path)
        if key:
            out.add(key[0])
    return out


def effective_kinds(kb: kbsets.KB, present: set[str]) -> dict[str, str]:
    kinds = {}
    for q in kb.queries:
        kind = q["kind"]
        if kind == "answerable" and not set(kb.qrels.get(q["id"], {})) & present:
            kind = "in-domain"
        kinds[q["id"]] = kind
    return kinds


def search_all(searcher: Searcher, texts: list[str], mode: str = "hybrid") -> list[tuple[list[str], bool]]:
    """(ranked article ids, answered) per query, as the help center asks: public, ten results, no language."""
    out = []
    for start in range(0, len(texts), BATCH):
        for resp in searcher.search_many(texts[start:start + BATCH], k=10, mode=mode):
            if resp.degraded:
                raise RuntimeError(f"search of {resp.query!r} skipped {resp.degraded} for time; use NO_DEADLINES")
            out.append(([r.id for r in resp.results], bool(resp.answered)))
    return out


def outcomes(kb: kbsets.KB, index: Path, configure=None, dense: bool = True) -> list[Outcome]:
    """Every query of the KB through a Searcher in this process; `configure(searcher)` may change it first."""
    # the dense pass asks the same queries again: every query vector stays in the cache
    searcher = Searcher(index, budget=NO_DEADLINES, embedder=CachedEmbedder(get_embedder(), query_cache_size=100_000))
    if configure:
        configure(searcher)
    kinds = effective_kinds(kb, article_ids(kb.articles))
    texts = [q["text"] for q in kb.queries]
    hybrid = search_all(searcher, texts)
    dense_runs = search_all(searcher, texts, "dense") if dense else [([], False)] * len(texts)
    return [Outcome(q["id"], q.get("lang"), kinds[q["id"]], ranked, answered, dense_ranked)
            for q, (ranked, answered), (dense_ranked, _) in zip(kb.queries, hybrid, dense_runs)]


def evidence_records(kb: kbsets.KB, index: Path) -> dict:
    """{"records": bench/evidence.py's per-query candidates, "kinds": effective kind per query, "qrels"}."""
    searcher = Searcher(index, budget=NO_DEADLINES)
    kinds = effective_kinds(kb, article_ids(kb.articles))
    return {"records": evidence.dump(searcher, kb.queries), "kinds": kinds,
            "qrels": {q["id"]: kb.qrels[q["id"]] for q in kb.queries if kinds[q["id"]] == "answerable"}}


def seed_agreement(kb: kbsets.KB, index: Path, seeds=SEEDS) -> tuple[int, int]:
    """(queries whose results and answered flag are identical under both hash seeds, queries)."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        queries = Path(tmp) / "queries.json"
        queries.write_text(json.dumps([q["text"] for q in kb.queries], ensure_ascii=False), encoding="utf-8")
        for seed in seeds:
            out = Path(tmp) / f"run-{seed}.json"
            env = dict(os.environ, PYTHONHASHSEED=str(seed))
            subprocess.run([sys.executable, __file__, "run-queries", str(index), str(queries), str(out)],
                           env=env, check=True, cwd=REPO)
            runs.append(json.loads(out.read_text(encoding="utf-8")))
    same = sum(a == b for a, b in zip(*runs))
    return same, len(kb.queries)


def _metrics(outs: list[Outcome], qrels: dict) -> dict:
    ans = [o for o in outs if o.kind == "answerable"]
    row = {"answerable": len(ans)}
    for prefix, pick in (("", lambda o: o.ranked), ("dense ", lambda o: o.dense)):
        for name, fn in (("ndcg@10", evaluation.ndcg), ("recall@10", evaluation.recall), ("mrr@10", evaluation.mrr)):
            row[prefix + name] = sum(fn(pick(o), qrels[o.id]) for o in ans) / len(ans) if ans else None
    row["answered"] = sum(o.answered for o in ans) / len(ans) if ans else None
    for kind in ("in-domain", "off-domain"):
        sub = [o for o in outs if o.kind == kind]
        row[kind] = len(sub)
        row[f"{kind} refused"] = sum(not o.answered for o in sub) / len(sub) if sub else None
    return row


def score(kb: kbsets.KB, outs: list[Outcome]) -> Report:
    """Metrics overall ("all") and per query language, from outcomes."""
    langs = sorted({o.lang for o in outs if o.lang})
    rows = {"all": _metrics(outs, kb.qrels)}
    rows.update({lang: _metrics([o for o in outs if o.lang == lang], kb.qrels) for lang in langs})
    demoted = sum(o.kind != q["kind"] for o, q in zip(outs, kb.queries))
    return Report(kb.name, kb.note, rows, demoted, misses=misses(kb, outs))


def misses(kb: kbsets.KB, outs: list[Outcome]) -> dict[str, list[dict]]:
    """What to look at first: refused answerable queries, answered unanswerable ones, wrong first results."""
    text = {q["id"]: q["text"] for q in kb.queries}
    out: dict[str, list[dict]] = {"answerable refused": [], "in-domain answered": [], "off-domain answered": [],
                                  "first result not relevant": []}
    for o in outs:
        row = {"id": o.id, "lang": o.lang, "text": text[o.id][:200] if kb.own_queries else None, "top": o.ranked[:3]}
        if o.kind == "answerable":
            if not o.answered:
                out["answerable refused"].append(row)
            if not o.ranked or not kb.qrels[o.id].get(o.ranked[0]):
                out["first result not relevant"].append(dict(row, relevant=sorted(kb.qrels[o.id])))
        elif o.answered:
            out[f"{o.kind} answered"].append(row)
    return out


def evaluate(kb: kbsets.KB, seeds=SEEDS) -> Report:
    """Index, search every query, score; with `seeds`, also the two-hash-seed check."""
    t = time.monotonic()
    index = index_kb(kb)
    report = score(kb, outcomes(kb, index))
    if seeds:
        report.seeds = seed_agreement(kb, index, seeds)
    report.seconds = time.monotonic() - t
    return report


def run_queries_main(index: str, queries: str, out: str):
    """The subprocess side of seed_agreement: the default searcher, results as JSON."""
    texts = json.loads(Path(queries).read_text(encoding="utf-8"))
    runs = search_all(Searcher(Path(index), budget=NO_DEADLINES), texts)
    Path(out).write_text(json.dumps([[ranked, answered] for ranked, answered in runs]), encoding="utf-8")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run-queries"]:
        return run_queries_main(*argv[1:4])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kbs", nargs="*", default=list(kbsets.DEFAULT_RUN))
    ap.add_argument("--articles", type=Path, default=None,
                    help="a folder `kb import docusaurus` wrote, instead of the stop-gap conversion (one --kbs)")
    ap.add_argument("--no-seeds", action="store_true", help="skip the two-hash-seed determinism check")
    ap.add_argument("--evidence", action="store_true", help="also save each KB's evidence records for fitting")
    ap.add_argument("--out", type=Path, default=RESULTS / "kbs.md")
    args = ap.parse_args(argv)
    from bench import kb_report

    for name in args.kbs:
        kb = kbsets.load(name, args.articles)
        print(f"{name}: {len(kb.queries)} queries ({kb.note})", flush=True)
        report = evaluate(kb, None if args.no_seeds else SEEDS)
        kb_report.save(report, RESULTS / "kbs", " ".join(["python bench/kb_eval.py", "--kbs", name] + (
            ["--articles", str(args.articles)] if args.articles else []) + (["--no-seeds"] if args.no_seeds else [])))
        if args.evidence:
            data = evidence_records(kb, index_kb(kb))
            evidence.save(kb.name, "kbs", data.pop("records"), data)
        print(kb_report.summary_line(report), flush=True)
        kb_report.write(RESULTS / "kbs", args.out)
    print(f"wrote {args.out} ({dt.datetime.now():%H:%M})")


if __name__ == "__main__":
    main()
