"""Synthetic knowledge bases and query sets for the speed benchmark (bench/speed/), built from real text.

Knowledge bases of ~10,000 and ~100,000 chunks are made of real paragraphs,
recombined: every synthesised article takes its intro and sections from one
language's pool of source units (the sample's chunks, and documents of the
shared benchmark corpora in ../shared/bench: stackfaq, xquad-mono-{en,ru,zh,es},
cmrc2018), with headings taken from the sample, a title made of a source title
plus a product and a variant number, and varied front matter. The sample's own
articles are included too, so their links resolve. The data is read from
../shared/bench and written only under bench/.work (gitignored).

Vectors: embedding 100k chunks with the real model takes hours on two cores,
so each distinct source unit is embedded once with the real model (the
sample's chunk vectors come from a real from-scratch index of the sample), and
a synthesised chunk gets the normalised mean of the vectors of the source units
it contains, plus a small random perturbation (cosine ≈ 0.96 to that mean).
These vectors are written into the index's embedding cache
(<index>/embeddings.sqlite, keyed by the sha256 of each chunk's embed_text, as
kb.embeddings.cache does), so `kb index` runs its real path and finds every
chunk in the cache. Only the model call is skipped; bench/speed measures it apart.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.articles import model as art_mod  # noqa: E402
from kb.articles import chunking  # noqa: E402

SHARED = REPO.parent / "shared" / "bench"
LANG_WEIGHTS = {"en": 0.4, "zh": 0.3, "ru": 0.2, "es": 0.1}
SHARED_SOURCES = {"stackfaq": None, "xquad-mono-en": None, "xquad-mono-ru": None, "xquad-mono-zh": None,
                  "xquad-mono-es": None, "cmrc2018": 500}  # folder: how many documents (None: all)
PRODUCTS = ["cdn", "live", "rtc", "billing", "account", "api", "storage", "dns"]
TAGS = ["errors", "setup", "limits", "security", "billing", "mobile", "sdk", "logs", "faq", "migration"]
NOISE = 0.3  # norm of the perturbation added to a unit-length mean vector
CACHE_DDL = "CREATE TABLE IF NOT EXISTS embeddings (model TEXT, key BLOB, vector BLOB, PRIMARY KEY (model, key))"


@dataclass
class Unit:
    """A block of real text (one source paragraph or one sample chunk) with its real vector."""

    text: str
    title: str
    lang: str
    vector: np.ndarray | None = None


def _clean(text: str) -> str:
    """One Markdown paragraph: no blank lines, no heading or fence markers at a line start."""
    lines = [re.sub(r"^\s*#+\s*", "", ln).replace("```", "").replace("~~~", "") for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln.strip()).strip()


def shared_units() -> list[Unit]:
    """Documents of the shared corpora in the sample's languages, as units without vectors yet."""
    out = []
    for name, limit in SHARED_SOURCES.items():
        path = SHARED / name / "corpus.jsonl"
        if not path.exists():
            raise SystemExit(f"{path} not found: the benchmark data lives in ../shared/bench beside the repo")
        docs = [json.loads(line) for line in open(path, encoding="utf-8")]
        for d in docs[:limit]:
            text = _clean(d["text"])
            if len(text) >= 40:
                out.append(Unit(text, (d.get("title") or "").replace("_", " ").strip(), d["lang"]))
    return out


def sample_units(sample_db: Path) -> tuple[list[Unit], dict[str, list[str]]]:
    """The sample's chunks (text and real vector) and its headings by language, from a sample index."""
    conn = sqlite3.connect(f"{sample_db.resolve().as_uri()}?mode=ro", uri=True)
    rows = conn.execute("SELECT c.text, a.title, a.lang, c.vector, c.heading FROM chunks c"
                        " JOIN articles a ON a.rowid = c.article").fetchall()
    conn.close()
    units, headings = [], {}
    for text, title, lang, blob, heading in rows:
        if heading:
            headings.setdefault(lang, set()).add(heading)
        fences = sum(1 for ln in text.split("\n") if re.match(r"^[ \t]*(```|~~~)", ln))
        if fences % 2 == 0 and text.strip() and not re.search(r"^#{1,6}\s", text, re.M):
            units.append(Unit(text.strip(), title, lang, np.frombuffer(blob, dtype=np.float32)))
    return units, {k: sorted(v) for k, v in headings.items()}


def embed_missing(texts: list[str], cache_path: Path, workers: int = 2) -> int:
    """Embed (passage role, real model) the texts not yet in the cache, with one model instance per thread.

    Run with OMP_NUM_THREADS=1: `workers` single-threaded instances use the cores better than one
    instance with OpenMP threads (see bench/results/speed.md). Returns how many were embedded.
    """
    import threading

    from kb.embeddings import CachedEmbedder
    from kb.embeddings.e5 import E5Embedder

    have = set(_cached(cache_path, texts))
    todo = [t for t in dict.fromkeys(texts) if t not in have]
    parts = [todo[k::workers] for k in range(workers)]

    def work(part):
        emb = CachedEmbedder(E5Embedder(), cache_path)
        try:
            emb.embed_passages(part)
        finally:
            emb.close()
    threads = [threading.Thread(target=work, args=(part,)) for part in parts if part]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(todo)


def _cached(cache_path: Path, texts: list[str]) -> dict[str, np.ndarray]:
    """Vectors of the texts found in an embedding cache (same keys as kb.embeddings.cache)."""
    from kb.embeddings.e5 import E5Embedder

    if not cache_path.exists():
        return {}
    db = sqlite3.connect(str(cache_path), timeout=30)
    db.execute(CACHE_DDL)
    by_key = {hashlib.sha256(t.encode("utf-8")).digest(): t for t in texts}
    keys, out = list(by_key), {}
    for j in range(0, len(keys), 500):
        part = keys[j:j + 500]
        q = f"SELECT key, vector FROM embeddings WHERE model=? AND key IN ({','.join('?' * len(part))})"
        for k, blob in db.execute(q, [E5Embedder.name, *part]):
            out[by_key[k]] = np.frombuffer(blob, dtype=np.float32)
    db.close()
    return out


def attach_vectors(units: list[Unit], cache_path: Path) -> int:
    """Give units without a vector theirs from the cache; returns how many are still missing."""
    found = _cached(cache_path, [u.text for u in units if u.vector is None])
    for u in units:
        if u.vector is None:
            u.vector = found.get(u.text)
    return sum(u.vector is None for u in units)


def _front(art_id, lang, title, rng) -> str:
    tags = rng.sample(TAGS, 2)
    vis = "internal" if rng.random() < 0.1 else "public"
    day = f"2026-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}"
    return (f"---\nid: {art_id}\nlang: {lang}\ntitle: {json.dumps(title, ensure_ascii=False)}\n"
            f"tags: [{', '.join(tags)}]\nproduct: {rng.choice(PRODUCTS)}\nvisibility: {vis}\n"
            f"owner: bench\nupdated: {day}\nreviewed: {day}\nreview_every: 180\n---\n")


def _compose(art_id, lang, pool, headings, rng) -> tuple[str, dict[str, list[Unit]]]:
    """Markdown of one synthesised article and the units placed under each heading ('' = intro)."""
    base = rng.choice(pool)
    title = f"{base.title or base.text[:40]} — {rng.choice(PRODUCTS).upper()} {rng.randint(1, 99)}"
    placed = {"": [base]}
    body = [base.text, ""]
    for heading in rng.sample(headings, min(len(headings), rng.randint(2, 5))):
        units = rng.sample(pool, rng.randint(1, 2))
        placed[heading] = units
        body += [f"## {heading}", ""] + [x for u in units for x in (u.text, "")]
    return _front(art_id, lang, title, rng) + "\n".join(body), placed


def _chunk_vector(chunk, placed, rng) -> np.ndarray:
    units = placed.get(chunk.heading) or placed[""]
    inside = [u for u in units if u.text[:60] in chunk.text or chunk.text[:60] in u.text] or units
    v = np.mean([u.vector for u in inside], axis=0)
    v = v / max(float(np.linalg.norm(v)), 1e-9)
    v = v + rng_normal(rng, v.shape[0]) * (NOISE / np.sqrt(v.shape[0]))
    return (v / np.linalg.norm(v)).astype(np.float32)


def rng_normal(rng: random.Random, n: int) -> np.ndarray:
    return np.random.default_rng(rng.getrandbits(32)).standard_normal(n)


def build_kb(out: Path, target_chunks: int, units: list[Unit], headings: dict, sample_dir: Path,
             sample_cache: Path, seed: int = 11) -> dict:
    """Write articles for ~target_chunks chunks into out/articles and prefill out/index/embeddings.sqlite."""
    import shutil

    from kb.embeddings.e5 import E5Embedder

    rng = random.Random(seed)
    arts = out / "articles"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(sample_dir, arts / "sample")
    (out / "index").mkdir(parents=True)
    db = sqlite3.connect(str(out / "index" / "embeddings.sqlite"))
    db.execute(CACHE_DDL)
    db.execute("ATTACH DATABASE ? AS src", (f"{sample_cache.resolve().as_uri()}?mode=ro",))
    db.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM src.embeddings")  # the sample's real vectors
    db.commit()
    db.execute("DETACH DATABASE src")
    n_sample = db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    pools = {lang: [u for u in units if u.lang == lang] for lang in LANG_WEIGHTS}
    langs, weights = list(LANG_WEIGHTS), list(LANG_WEIGHTS.values())
    n_chunks, n_files, group, rows = n_sample, 0, 0, []
    while n_chunks < target_chunks:
        group += 1
        versions = {rng.choices(langs, weights)[0] for _ in range(rng.choice([1, 1, 2, 3]))}
        for lang in sorted(versions):
            art_id = f"syn-{group:06d}"
            rel = f"syn/{lang}/{group // 1000:03d}/{art_id}.{lang}.md"
            text, placed = _compose(art_id, lang, pools[lang], headings[lang], rng)
            article, _ = art_mod.parse(text, rel)
            for c in chunking.chunk(article):
                key = hashlib.sha256(c.embed_text.encode("utf-8")).digest()
                rows.append((E5Embedder.name, key, _chunk_vector(c, placed, rng).tobytes()))
                n_chunks += 1
            path = arts / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            n_files += 1
        if len(rows) >= 5000:
            db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
            db.commit()
            rows = []
    db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    return {"articles": n_files, "groups": group, "chunks_estimate": n_chunks}


# --- queries ---------------------------------------------------------------

QUERY_SOURCES = ["xquad-mono-zh", "xquad-mono-ru", "xquad-mono-en", "xquad-mono-es", "cmrc2018", "stackfaq"]


def distinct_queries(seed: int = 5) -> list[dict]:
    """Every distinct question (zh, ru, en, es) of the shared query files plus the sample's, shuffled."""
    seen, out = set(), []
    for name in QUERY_SOURCES:
        for line in open(SHARED / name / "queries.jsonl", encoding="utf-8"):
            q = json.loads(line)
            text = " ".join(q["text"].split())
            if text and text not in seen and len(text) <= 300:
                seen.add(text)
                out.append({"text": text, "lang": q["lang"]})
    random.Random(seed).shuffle(out)
    return out


def sample_queries() -> list[dict]:
    return [{"text": q["text"], "lang": q["lang"]}
            for q in map(json.loads, open(REPO / "tests/data/sample_queries.jsonl", encoding="utf-8"))]


def zipf_sequence(items: list, n: int, seed: int, s: float = 1.0) -> list:
    """n draws from items with P(rank r) ∝ 1/r^s: a help center's head of repeated questions and long tail."""
    ranks = np.arange(1, len(items) + 1, dtype=np.float64)
    p = ranks ** -s
    p /= p.sum()
    idx = np.random.default_rng(seed).choice(len(items), size=n, p=p)
    return [items[i] for i in idx]


def ticket_texts(queries: list[dict], seed: int = 7) -> list[dict]:
    """Each query wrapped as a pasted ticket by bench/tickets.py (greeting, context, logs, signature)."""
    sys.path.insert(0, str(REPO / "bench"))
    from tickets import ticket

    from kb.search.evaluation import Query

    rng = random.Random(seed)
    return [{"text": ticket(Query(str(i), q["text"], q["lang"], ()), rng), "lang": q["lang"]}
            for i, q in enumerate(queries)]
