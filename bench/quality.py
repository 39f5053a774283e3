"""Retrieval quality on ../shared/bench: polykb keyword, dense and hybrid beside two peers.

    python bench/quality.py                      # every set, every query; rewrites bench/results/quality.md
    python bench/quality.py --sets stackfaq --max-queries 300 --no-peers

Queries are run without their language (real users don't give it). Each
dataset is indexed by polykb's own indexer (chunked, embedded through the
content cache in bench/.work, so a second run embeds nothing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets, peers  # noqa: E402
from indexer import job  # noqa: E402
from kb.search import fusion  # noqa: E402
from kb.search.evaluation import Query, evaluate  # noqa: E402
from kb.embeddings import CachedEmbedder, get_embedder  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

ALL_SETS = datasets.DEV_SETS
RESULTS = Path(__file__).resolve().parent / "results"
ENGLISH_ONLY_MODEL_SETS = ("stackfaq", "xquad-mono-en")


def run_polykb(ds, searcher: Searcher, modes) -> dict[str, dict[str, list[str]]]:
    runs = {}
    texts = [q["text"] for q in ds.queries]
    for mode in modes:
        run = {}
        for start in range(0, len(texts), 128):
            resps = searcher.search_many(texts[start:start + 128], k=10, mode=mode)
            for q, r in zip(ds.queries[start:start + 128], resps):
                run[q["id"]] = [x.id for x in r.results]
        runs[f"polykb {mode}"] = run
    return runs


def index_dataset(ds) -> Path:
    articles = datasets.write_articles(ds)
    index = datasets.WORK / ds.name / "index"
    t = time.monotonic()
    summary = job.run(articles, index, progress=False)
    print(f"  indexed {ds.name}: {summary.chunks_total} chunks, {summary.chunks_embedded} embedded, "
          f"{time.monotonic() - t:.0f} s", flush=True)
    return index


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=ALL_SETS)
    ap.add_argument("--max-queries", type=int, default=None, help="an even sample of each set's queries")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--grid", action="store_true", help="also score a grid of fusion settings (for tuning)")
    ap.add_argument("--out", type=Path, default=RESULTS / "quality.md")
    args = ap.parse_args(argv)

    table: dict[str, dict[str, dict]] = {}  # set -> system -> {lang -> scores}
    started = time.monotonic()
    for name in args.sets:
        ds = datasets.load(name, args.max_queries)
        print(f"{name}: {len(ds.docs)} docs, {len(ds.queries)} queries", flush=True)
        index = index_dataset(ds)
        searcher = Searcher(index, embedder=CachedEmbedder(get_embedder(), query_cache_size=100_000), budget=Budget.unlimited())  # every query
        # vector kept between modes
        queries = [Query(q["id"], q["text"], q.get("lang")) for q in ds.queries]
        runs = run_polykb(ds, searcher, ("keyword", "dense", "hybrid"))
        if args.grid:
            for w in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
                for p in (1.0, 2.0, 3.0):
                    searcher.fusion = fusion.AdaptiveFusion(max_weight=w, power=p)
                    runs[f"grid w={w} p={p}"] = run_polykb(ds, searcher, ("hybrid",))["polykb hybrid"]
            searcher.fusion = fusion.RRF()
            runs["rrf k=60"] = run_polykb(ds, searcher, ("hybrid",))["polykb hybrid"]
            searcher.fusion = None  # back to the knowledge base's own (kb/search/calibration.py)
        if name in ENGLISH_ONLY_MODEL_SETS and not args.no_peers:
            # the English-only peer model inside polykb: is the gap to it the model or the engine?
            spec = "st:" + peers.minilm_path()
            st_index = datasets.WORK / ds.name / "index-minilm"
            job.run(datasets.write_articles(ds), st_index, model=spec, progress=False)
            st_searcher = Searcher(st_index, model=spec, budget=Budget.unlimited())
            for mode, run in run_polykb(ds, st_searcher, ("dense", "hybrid")).items():
                runs[f"{mode} (MiniLM)"] = run
        if not args.no_peers:
            for peer_cls in (peers.BM25Peer, peers.MiniLMFaissPeer):
                t = time.monotonic()
                peer = peer_cls(ds.docs)
                runs[peer.name] = peer.search(ds.queries)
                print(f"  {peer.name}: {time.monotonic() - t:.0f} s", flush=True)
        table[name] = {system: evaluate(run, queries, ds.qrels) for system, run in runs.items()}
        kept = kept_peers(name, len(ds.queries)) if args.no_peers else {}
        (RESULTS / "quality").mkdir(parents=True, exist_ok=True)
        (RESULTS / "quality" / f"{name}.json").write_text(json.dumps(
            {"queries": len(ds.queries), "docs": len(ds.docs), "command": " ".join(sys.argv[1:]),
             "date": dt.date.today().isoformat(), "scores": {**kept.get("scores", {}), **table[name]},
             "peers_from": kept.get("date")}, indent=1, sort_keys=True))
        for system, by_lang in table[name].items():
            print(f"  {system:24} nDCG@10 {by_lang['all']['ndcg@10']:.3f}", flush=True)
        write(args, time.monotonic() - started)  # after every set: a long run keeps what it measured


def kept_peers(name: str, queries: int) -> dict:
    """The peers' rows of the last full run of this set, when it asked the same queries: the peers do not
    change with polykb's code, and MiniLM over every corpus is most of a run's time."""
    path = RESULTS / "quality" / f"{name}.json"
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if old.get("queries") != queries:
        return {}
    return {"date": old.get("peers_from") or old.get("date"),
            "scores": {s: v for s, v in old["scores"].items() if not s.startswith("polykb") and
                       not s.startswith(("grid", "rrf"))}}


def write(args, seconds):
    """bench/results/quality.md from every set measured so far (bench/results/quality/*.json)."""
    saved = {p.stem: json.loads(p.read_text()) for p in sorted((RESULTS / "quality").glob("*.json"))}
    order = [n for n in ALL_SETS if n in saved] + [n for n in saved if n not in ALL_SETS]
    table = {n: saved[n]["scores"] for n in order}
    lines = [f"# Retrieval quality ({dt.date.today().isoformat()})", "",
             "`python bench/quality.py --max-queries 1000` (an even sample of each set's queries; all of them "
             "where a set has fewer). nDCG@10 / Recall@10 / MRR@10; queries run without their language. "
             "Peers, run in the same script: bm25s (jieba for zh, Snowball stems elsewhere; told the query "
             "language) and all-MiniLM-L6-v2 + FAISS flat over whole documents. On the English sets polykb "
             "also runs with that MiniLM model (`--model st:...`), rows \"(MiniLM)\".", ""]
    peers_from = sorted({s.get("peers_from") for s in saved.values() if s.get("peers_from")})
    if peers_from:
        lines += [f"This run used `--no-peers`: the peers' rows (bm25s, MiniLM + FAISS) are those measured on "
                  f"{', '.join(peers_from)} on the same queries (they do not depend on polykb's code); polykb's "
                  "own rows are from this run, and its MiniLM rows were not re-run.", ""]
    lines += ["## nDCG@10, all queries", ""]
    preferred = ["polykb keyword", "polykb dense", "polykb hybrid", "bm25s", "minilm+faiss",
                 "polykb dense (MiniLM)", "polykb hybrid (MiniLM)"]
    found = {s for by in table.values() for s in by}
    systems = [s for s in preferred if s in found] + sorted(found - set(preferred))
    lines.append("| set | queries | " + " | ".join(systems) + " |")
    lines.append("|---|---|" + "---|" * len(systems))
    for name, by_system in table.items():
        row = [f"{by_system[s]['all']['ndcg@10']:.3f}" if s in by_system else "" for s in systems]
        best = max((v for v in row if v), default="")
        lines.append(f"| {name} | {saved[name]['queries']} | " + " | ".join(f"**{v}**" if v == best else v for v in row) + " |")
    lines += ["", "## Per language (nDCG@10 / R@10 / MRR@10)", ""]
    for name, by_system in table.items():
        langs = [k for k in next(iter(by_system.values())) if k != "all"]
        if len(langs) <= 1:
            continue
        lines.append(f"### {name}")
        lines.append("| system | " + " | ".join(langs) + " |")
        lines.append("|---|" + "---|" * len(langs))
        for system in [s for s in systems if s in by_system]:
            by_lang = by_system[system]
            cells = [f"{by_lang[lang]['ndcg@10']:.3f} / {by_lang[lang]['recall@10']:.3f} / {by_lang[lang]['mrr@10']:.3f}"
                     if lang in by_lang else "" for lang in langs]
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Per-set figures with recall and MRR: `bench/results/quality/<set>.json`.", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out} ({seconds / 60:.0f} min)")


if __name__ == "__main__":
    main()
