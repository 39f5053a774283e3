"""How many results an answered search shows, and what a cut below the first result costs in recall.

A help-center search that answers showed 20-38 rows (issue 22): every article
with any keyword or a cosine near the best. Fused scores (kb/search/fusion.py)
put the best article at about 1 and one whose cosine is `scale` below the best,
with no keyword match, at 0, so "far below the first" has one meaning in every
knowledge base. This searches the sample's queries (hybrid, public, with each
query's own language as the reader's), keeps every result (k = 100), and
replays cuts at several margins below the first score (answered searches only): results per answered
search, recall of the relevant articles within them, nDCG@10, answered rate.

    python bench/result_cut.py --index DIR            # writes bench/results/result_cut.md
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.search import results  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUERIES = REPO / "tests" / "data" / "sample_queries.jsonl"
OUT = REPO / "bench" / "results" / "result_cut.md"
MARGINS = [None, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]


def ndcg10(ids: list[str], relevant: set[str]) -> float:
    gain = sum(1 / math.log2(i + 2) for i, a in enumerate(ids[:10]) if a in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return gain / ideal if ideal else 0.0


def run(index: Path, queries: list[dict]) -> list[dict]:
    results.MARGIN = math.inf  # every result, uncut: the cuts are replayed on them
    searcher = Searcher(index, budget=Budget.unlimited())
    rows = []
    for q in queries:
        resp = searcher.search(q["text"], ui_lang=q.get("lang"), k=100, mode="hybrid")
        rows.append({"id": q["id"], "relevant": set(q.get("relevant", ())), "answered": resp.answered,
                     "scored": [(r.id, r.score) for r in resp.results]})
    return rows


def replay(rows: list[dict], margin: float | None) -> dict:
    shown, found, ndcg, answered = [], 0, 0.0, 0
    for row in rows:
        cut = margin is not None and row["answered"]  # a search that does not answer shows its closest results
        kept = results.within(row["scored"], margin) if cut else row["scored"]
        ids = [i for i, _ in kept]
        ndcg += ndcg10(ids, row["relevant"])
        found += len(row["relevant"] & set(ids)) / max(1, len(row["relevant"]))
        if row["answered"]:
            answered += 1
            shown.append(len(ids))
    shown.sort()
    return {"margin": "none" if margin is None else f"{margin:.2f}", "recall": found / len(rows),
            "ndcg": ndcg / len(rows), "answered": answered / len(rows),
            "mean": sum(shown) / max(1, len(shown)), "median": shown[len(shown) // 2] if shown else 0,
            "max": max(shown, default=0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="an index of the sample (kb index --articles articles)")
    ap.add_argument("--label", default="", help="what the run measured (written above the table)")
    args = ap.parse_args()
    queries = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    rows = run(args.index, queries)
    table = [replay(rows, m) for m in MARGINS]
    lines = ["# Fewer, better results: a cut below the first score", "",
             f"`python bench/result_cut.py`: the sample's {len(rows)} queries (tests/data/sample_queries.jsonl), "
             "hybrid, each with its own language as the reader's, every result kept (k = 100); a margin keeps the "
             "results whose fused score is within it of the first. Recall: the share of each query's relevant articles among "
             "those kept (no k limit); results: per answered search. " + args.label, "",
             "| margin | recall | nDCG@10 | answered | results mean | median | max |", "|---|---|---|---|---|---|---|"]
    for t in table:
        lines.append(f"| {t['margin']} | {t['recall']:.3f} | {t['ndcg']:.3f} | {t['answered']:.3f} | "
                     f"{t['mean']:.1f} | {t['median']} | {t['max']} |")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
