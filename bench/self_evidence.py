"""The questions each dev knowledge base asks itself (kb/search/self_questions.py), searched on the indexes that
bench/evidence.py built, dumped once so calibration can be fitted and left out offline in seconds.

Per set, two situations, as in bench/evidence.py:
- `full`: the whole corpus (fusion is calibrated and scored on it);
- `reduced`: the corpus with a seeded 30% of its articles removed, the knowledge base whose real answerable,
  unanswerable and off-domain queries the "answered" decision is scored on;
- `small`: 70 articles alone, where calibration has little to learn from.

The whole knowledge bases of bench/kbsets.py (the sample, the AdGuard sites) have one situation, `full`, and
their real queries' evidence is dumped beside (bench/.work/evidence/<kb>.kbs.json.gz, bench/kb_eval.py's format).

    python bench/self_evidence.py --sets stackfaq xquad-mono-en
    python bench/self_evidence.py --sets --kbs sample adguard-dns
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets, evidence, kb_eval, kbsets  # noqa: E402
from kb.embeddings import CachedEmbedder, get_embedder  # noqa: E402
from kb.search import self_questions, self_search  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

OUT = datasets.WORK / "self-evidence"
SITUATIONS = {"full": "{name}", "reduced": "{name}-reduced", "small": "{name}-small"}


def index_of(name: str, situation: str) -> Path:
    return datasets.WORK / SITUATIONS[situation].format(name=name) / "index"


def dump(index: Path, embedder=None) -> tuple[list[dict], dict, object]:
    """(records, facts about the knowledge base, the embedder to reuse) of one index's own questions."""
    searcher = Searcher(index, budget=Budget.unlimited(),
                        embedder=embedder or CachedEmbedder(get_embedder(), query_cache_size=100_000))
    gen = searcher.generation()
    t = time.perf_counter()
    questions = self_questions.make(gen)
    records = self_search.observe(gen, searcher.embedder.embed_queries, questions)
    facts = {"groups": len({a.id for a in gen.articles.values() if a.is_public}),
             "langs": sorted(gen.languages(True)), "seconds": round(time.perf_counter() - t, 1)}
    return records, facts, searcher.embedder


def load(name: str, situation: str) -> dict | None:
    return evidence.load(name, situation, OUT)


def save(name: str, situation: str, records: list[dict], facts: dict):
    evidence.save(name, situation, records, facts, OUT)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=datasets.DEV_SETS)
    ap.add_argument("--situations", nargs="*", default=list(SITUATIONS))
    ap.add_argument("--kbs", nargs="*", default=[], help="whole knowledge bases of bench/kbsets.py")
    args = ap.parse_args(argv)
    embedder = None
    for name in args.kbs:
        kb = kbsets.load(name)
        index = kb_eval.index_kb(kb)
        records, facts, embedder = dump(index, embedder)
        save(name, "full", records, facts)
        searcher = Searcher(index, budget=Budget.unlimited(), embedder=embedder)
        kinds = kb_eval.effective_kinds(kb, kb_eval.article_ids(kb.articles))
        qrels = {q["id"]: kb.qrels[q["id"]] for q in kb.queries if kinds[q["id"]] == "answerable"}
        texts = {q["id"]: q["text"] for q in kb.queries}
        evidence.save(name, "kbs", evidence.dump(searcher, kb.queries), {"kinds": kinds, "qrels": qrels,
                                                                          "texts": texts})
        print(f"{name}: {len(records)} questions over {facts['groups']} articles, {facts['seconds']} s; "
              f"{len(kb.queries)} real queries", flush=True)
    for name in args.sets:
        for situation in args.situations:
            index = index_of(name, situation)
            if not (index / "CURRENT").exists():
                print(f"{name} {situation}: no index at {index} (run bench/evidence.py first)", flush=True)
                continue
            records, facts, embedder = dump(index, embedder)
            save(name, situation, records, facts)
            print(f"{name} {situation}: {len(records)} questions over {facts['groups']} articles, "
                  f"{facts['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
