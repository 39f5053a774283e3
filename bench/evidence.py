"""What polykb's two retrieval sides find for each benchmark query, dumped once, so fusion and the
"answered" decision can be fitted and cross-validated offline in seconds instead of re-searching.

For every dev set (../shared/bench) three situations are dumped, each through polykb's own indexer
and Searcher (the evidence stage, before fusion):
- `full`: the whole corpus; every query has an answer (fusion is fitted and scored on this);
- `reduced`: a seeded 30% of the documents (translation groups) removed and the rest re-indexed;
  queries whose relevant documents are all gone are unanswerable, the rest answerable;
- `offdomain`: the reduced index asked questions from another dev set, plus keyboard mash in Latin,
  Cyrillic and Han;
- `small`: a seeded 70 groups kept and indexed alone, with the queries about them: a knowledge base
  the size of a small FAQ (67 answers), where every document is a candidate and per-query score
  normalisation behaves differently than over 100 of thousands.

    python bench/evidence.py --sets stackfaq xquad-mono-en --max-queries 600
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets  # noqa: E402
from indexer import job  # noqa: E402
from kb.search import answerability  # noqa: E402
from kb.embeddings import CachedEmbedder, get_embedder  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

OUT = datasets.WORK / "evidence"
DROP_SHARE = 0.3
SMALL_GROUPS = 70
SEED = 20261130
# Questions from a set about something else: web-app FAQs against Wikipedia paragraphs and back.
OFF_DOMAIN_SOURCE = {"stackfaq": "xquad-mono-en"}
OFF_DOMAIN_DEFAULT = "stackfaq"
MASH_PER_SCRIPT = 40


def mash(rng: random.Random, script: str) -> str:
    """Keyboard mash: what a cat or an impatient visitor types."""
    if script == "latin":
        rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
        return " ".join("".join(rng.choice(rng.choice(rows)) for _ in range(rng.randint(3, 9)))
                        for _ in range(rng.randint(1, 4)))
    if script == "cyrillic":
        rows = ["йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю"]
        return " ".join("".join(rng.choice(rng.choice(rows)) for _ in range(rng.randint(3, 9)))
                        for _ in range(rng.randint(1, 4)))
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 10)))


def mash_queries(n: int = MASH_PER_SCRIPT) -> list[dict]:
    rng = random.Random(SEED)
    return [{"id": f"mash-{script}-{i}", "text": mash(rng, script), "lang": None}
            for script in ("latin", "cyrillic", "han") for i in range(n)]


def dropped_groups(ds: datasets.Dataset) -> set[str]:
    groups = sorted({d["article_id"] for d in ds.docs})
    return set(random.Random(f"{SEED}-{ds.name}").sample(groups, int(DROP_SHARE * len(groups))))


def reduced_index(ds: datasets.Dataset, full_index: Path, drop: set[str], suffix: str = "reduced") -> Path:
    """The corpus without the dropped groups, indexed from the full index's embedding cache."""
    kept = datasets.Dataset(f"{ds.name}-{suffix}", [d for d in ds.docs if d["article_id"] not in drop], ds.queries,
                            ds.qrels)
    articles = datasets.write_articles(kept)
    index = datasets.WORK / kept.name / "index"
    index.mkdir(parents=True, exist_ok=True)
    if not (index / "embeddings.sqlite").exists():
        shutil.copyfile(full_index / "embeddings.sqlite", index / "embeddings.sqlite")
    job.run(articles, index, progress=False)
    return index


SHARED_CACHE = datasets.WORK / "embeddings.sqlite"


def index_with_shared_cache(articles: Path, index: Path):
    """Index through one embedding cache shared by every set: XQuAD's languages repeat across sets."""
    index.mkdir(parents=True, exist_ok=True)
    own = index / "embeddings.sqlite"
    if SHARED_CACHE.exists():
        _merge(SHARED_CACHE, own)
    job.run(articles, index, progress=False)
    _merge(own, SHARED_CACHE)


def _merge(src: Path, dst: Path):
    conn = sqlite3.connect(dst)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS embeddings (model TEXT, key BLOB, vector BLOB, PRIMARY KEY (model, key))")
        conn.execute("ATTACH DATABASE ? AS src", (str(src),))
        conn.execute("INSERT OR IGNORE INTO embeddings SELECT model, key, vector FROM src.embeddings")
        conn.commit()
    finally:
        conn.close()


def dump(searcher: Searcher, queries: list[dict]) -> list[dict]:
    """One record per query: detection, keyword trust, and every candidate article version's scores."""
    gen = searcher.generation()
    out = []
    for start in range(0, len(queries), 64):
        batch = queries[start:start + 64]
        for q, (ev, det) in zip(batch, searcher.evidence([q["text"] for q in batch])):
            top = sorted(ev.dense, key=ev.dense.get, reverse=True)[:answerability.RAW_CANDIDATES]
            raw = {}
            if top and ev.qvecs is not None:
                vecs = gen.store.chunk_vectors([ev.best_chunk[a] for a in top])
                qv = np.asarray(ev.qvecs)
                raw = {a: float((qv @ vecs[ev.best_chunk[a]]).max()) for a in top}
            cands = []
            for rowid in set(ev.dense) | set(ev.keyword.scores):
                art = gen.articles[rowid]
                cands.append([art.id, art.lang, ev.dense.get(rowid), ev.keyword.scores.get(rowid), raw.get(rowid)])
            out.append({"id": q["id"], "lang": q.get("lang"), "det": det.lang, "conf": round(det.confidence, 3),
                        "coverage": ev.keyword.coverage, "n_tokens": ev.keyword.n_tokens, "known": ev.known,
                        "chars": len(q["text"]), "cands": cands})
    return out


def load(name: str, situation: str, folder: Path = OUT) -> dict | None:
    """A dump written by `save` ({"records", "qrels"?, ...}); None when this set was not dumped."""
    path = folder / f"{name}.{situation}.json.gz"
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def save(name: str, situation: str, records: list[dict], extra: dict, folder: Path = OUT):
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / f"{name}.{situation}.json.gz", "wt", encoding="utf-8") as f:
        json.dump({"records": records, **extra}, f, ensure_ascii=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # English first, then each XQuAD language, then the 11-language pool: each reuses the others' vectors
    ap.add_argument("--sets", nargs="*", default=["stackfaq", "xquad-mono-en", "xquad-cross-en", "xquad-mono-zh",
                                                  "xquad-mono-ru", "xquad-mono-es", "xquad-mono-de",
                                                  "xquad-mono-ar", "xquad-cross-any", "cmrc2018"])
    ap.add_argument("--max-queries", type=int, default=600)
    ap.add_argument("--off-domain", type=int, default=200, help="questions from another set per set")
    args = ap.parse_args(argv)
    for name in args.sets:
        t = time.monotonic()
        ds = datasets.load(name, args.max_queries)
        full = datasets.WORK / name / "index"
        index_with_shared_cache(datasets.write_articles(ds), full)
        searcher = Searcher(full, embedder=CachedEmbedder(get_embedder(), query_cache_size=100_000), budget=Budget.unlimited())  # the reduced
        # index asks the same queries again
        qrels = {q["id"]: ds.qrels.get(q["id"], {}) for q in ds.queries}
        save(name, "full", dump(searcher, ds.queries), {"qrels": qrels})
        drop = dropped_groups(ds)
        reduced = Searcher(reduced_index(ds, full, drop), embedder=searcher.embedder, budget=Budget.unlimited())
        answerable = {qid: any(d not in drop for d in rel) for qid, rel in qrels.items()}
        save(name, "reduced", dump(reduced, ds.queries), {"qrels": qrels, "answerable": answerable,
                                                          "dropped": sorted(drop)})
        other = datasets.load(OFF_DOMAIN_SOURCE.get(name, OFF_DOMAIN_DEFAULT), args.off_domain)
        off = [dict(q, id=f"off-{q['id']}") for q in other.queries] + mash_queries()
        save(name, "offdomain", dump(reduced, off), {})
        groups = sorted({d["article_id"] for d in ds.docs})
        keep = set(random.Random(f"{SEED}-{name}-small").sample(groups, min(SMALL_GROUPS, len(groups))))
        small = Searcher(reduced_index(ds, full, set(groups) - keep, "small"), embedder=searcher.embedder,
                         budget=Budget.unlimited())
        # the queries about the kept documents, judged on them alone (stackfaq has several answers a query)
        small_qrels = {qid: {d: r for d, r in rel.items() if d in keep} for qid, rel in qrels.items()}
        asked = [q for q in ds.queries if small_qrels[q["id"]]]
        save(name, "small", dump(small, asked), {"qrels": {q["id"]: small_qrels[q["id"]] for q in asked}})
        print(f"{name}: {len(ds.queries)} queries, {sum(answerable.values())} answerable after dropping "
              f"{len(drop)} groups, {len(off)} off-domain; {time.monotonic() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
