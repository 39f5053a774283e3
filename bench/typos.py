"""Typo tolerance of the keyword side: clean queries, typo'd ones, and typo'd ones corrected (kb/search/typos.py).

    python bench/typos.py --max-queries 1000      # rewrites bench/results/typos.md (3 min)
    python bench/typos.py --sets cmrc2018 --max-queries 100 --no-large
    python bench/typos.py --hybrid 300            # also hybrid with the real model (indexes each set with it)

Each set is indexed by polykb's own indexer (`indexer.job.run` on the set written
as articles, as bench/quality.py does) with a hashing stand-in for the embedding
model: this measures the keyword side only, and embedding every chunk with the
real model would take ~0.1 s a chunk. Queries get 1-2 seeded typos each
(`Typist`): in letters, a substitution, deletion, swap of neighbours or insertion
in a word of 4+ letters; in Chinese, a character replaced by one that sounds
the same (pinyin without tones: what a pinyin keyboard gets wrong) or, half the
time, by a random common character (and, in the rows "homophones only", always
by one that sounds the same when there is one).

Columns: keyword-only nDCG@10 / Recall@10 of the same queries clean and typo'd,
each without and with correction, ranked the way `kb search --mode keyword`
ranks (one result per article, best bm25 chunk). "Searcher, typo'd" runs the
typo'd queries through `Searcher.search(mode="keyword")`, which calls kb.search.typos
(kb/search/retrieve.py): it must equal "typo'd, corrected". Unless `--no-large`,
the cost is measured at 100k chunks on an FTS-only knowledge base recombined
from the corpora bench/synth.py uses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets  # noqa: E402
from indexer import job  # noqa: E402
from kb import embeddings  # noqa: E402
from kb.text import languages  # noqa: E402
from kb.search import typos  # noqa: E402
from kb.search.retrieve import COMMON_SHARE  # noqa: E402
from kb.embeddings.base import Embedder, normalize_rows  # noqa: E402
from kb.search.evaluation import Query, evaluate  # noqa: E402
from kb.search.request import CANDIDATES  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402
from kb.index.store import PUBLIC, Store, create  # noqa: E402

SETS = {"stackfaq": "en", "xquad-mono-en": "en", "xquad-mono-ru": "ru", "xquad-mono-zh": "zh", "cmrc2018": "zh"}
RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "bench-keyword-only"
ALPHABETS = {"latin": "abcdefghijklmnopqrstuvwxyz", "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"}
COMMON_HAN = 3500  # the most frequent single characters of jieba's dictionary count as common
_WORD = re.compile(r"[^\W\d_]{4,}")


class HashEmbedder(Embedder):
    """Words hashed into 64 dimensions: instant, deterministic; the keyword side never reads it."""

    name, dim = MODEL, 64

    def embed_passages(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in text.lower().split():
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
            out[i, 0] += 0.01
        return normalize_rows(out)

    embed_queries = embed_passages


# --- typos -------------------------------------------------------------------

class Typist:
    """Seeded typos: the same query id always gets the same typos."""

    def __init__(self, seed: int = 12, homophones: float = 0.5):
        self.seed, self.homophones = seed, homophones  # share of Chinese typos that sound the same
        jieba = languages._jieba()
        freq = jieba.dt.FREQ
        chars = sorted((w for w in freq if len(w) == 1 and languages.HAN_RUN.fullmatch(w)), key=freq.get,
                       reverse=True)
        self.common = chars[:COMMON_HAN]
        self.by_sound: dict[str, list[str]] = {}
        for ch in self.common:
            for sound in typos.pinyin(ch):
                self.by_sound.setdefault(sound, []).append(ch)

    def __call__(self, qid: str, text: str) -> str:
        rng = random.Random(f"{self.seed}:{qid}")
        edits = rng.choice((1, 2))
        han = [i for i, ch in enumerate(text) if languages.HAN_RUN.fullmatch(ch)]
        if han:
            for pos in rng.sample(han, min(edits, len(han))):
                text = text[:pos] + self._han(text[pos], rng) + text[pos + 1:]
            return text
        words = [m for m in _WORD.finditer(text) if languages.script_of_char(m.group()[0]) in ALPHABETS]
        for m in sorted(rng.sample(words, min(edits, len(words))), key=lambda m: -m.start()):
            text = text[:m.start()] + self._word(m.group(), rng) + text[m.end():]
        return text

    def _han(self, ch: str, rng: random.Random) -> str:
        alike = sorted({c for s in typos.pinyin(ch) for c in self.by_sound.get(s, ()) if c != ch})
        if alike and rng.random() < self.homophones:
            return rng.choice(alike)
        return rng.choice([c for c in self.common[:COMMON_HAN] if c != ch])

    @staticmethod
    def _word(word: str, rng: random.Random) -> str:
        letters = ALPHABETS[languages.script_of_char(word[0])]
        for _ in range(20):
            op, i = rng.choice(("sub", "del", "swap", "ins")), rng.randrange(len(word))
            if op == "sub":
                new = word[:i] + rng.choice(letters) + word[i + 1:]
            elif op == "del":
                new = word[:i] + word[i + 1:]
            elif op == "swap":
                i = min(i, len(word) - 2)
                new = word[:i] + word[i + 1] + word[i] + word[i + 2:]
            else:
                new = word[:i] + rng.choice(letters) + word[i:]
            if new.lower() != word.lower():
                return new
        return word


# --- keyword ranking as `kb search --mode keyword` ranks ---------------------------

class KeywordRanker:
    def __init__(self, index: Path):
        self.searcher = Searcher(index, model=MODEL, budget=Budget.unlimited())
        gen = self.searcher.generation()
        self.store: Store = gen.store
        self.chunk_id = {c: gen.articles[a].id for c, a in gen.chunk_article.items()}
        t = time.perf_counter()
        self.vocab = typos.Vocabulary.load(self.store)
        self.load_seconds = time.perf_counter() - t
        self.seconds: list[float] = []  # correction CPU time of each query that had an unknown token

    def tokens(self, text: str, lang: str, correct: bool) -> list[str]:
        tokens = list(dict.fromkeys(languages.tokenize(text, lang)))
        if not correct:
            return tokens
        df = self.store.doc_frequencies(tokens)
        if all(df.get(t) for t in tokens):
            return tokens
        t = time.thread_time()
        fixed = self.vocab.correct(text, tokens, df, lang).tokens
        self.seconds.append(time.thread_time() - t)
        return fixed

    def rank(self, tokens: list[str]) -> list[str]:
        best: dict[str, float] = {}
        for cid, s in self.store.keyword_search(tokens, PUBLIC, CANDIDATES):
            art = self.chunk_id[cid]
            best[art] = max(best.get(art, -1e9), s)
        return sorted(best, key=best.get, reverse=True)[:10]


def index_set(ds) -> Path:
    index = datasets.WORK / ds.name / "index-keyword-only"
    summary = job.run(datasets.write_articles(ds), index, model=MODEL, progress=False)
    print(f"  indexed {ds.name}: {summary.chunks_total} chunks", flush=True)
    return index


def measure_set(name: str, lang: str, max_queries: int, typist: Typist) -> dict:
    ds = datasets.load(name, max_queries)
    ranker = KeywordRanker(index_set(ds))
    queries = [Query(q["id"], q["text"], q.get("lang")) for q in ds.queries]
    typod = {q.id: typist(q.id, q.text) for q in queries}
    runs: dict[str, dict[str, list[str]]] = {}
    toks: dict[str, dict[str, list[str]]] = {}
    for label, texts, correct in (("clean", None, False), ("clean, corrected", None, True),
                                  ("typo'd", typod, False), ("typo'd, corrected", typod, True)):
        ranker.seconds = []
        toks[label] = {q.id: ranker.tokens(texts[q.id] if texts else q.text, lang, correct) for q in queries}
        runs[label] = {qid: ranker.rank(t) for qid, t in toks[label].items()}
        if label == "typo'd, corrected":
            seconds = ranker.seconds
    runs["Searcher, typo'd"] = {q.id: [r.id for r in ranker.searcher.search(typod[q.id], mode="keyword").results]
                                for q in queries}
    scores = {label: evaluate(run, queries, ds.qrels)["all"] for label, run in runs.items()}
    clean, typo, fixed = toks["clean"], toks["typo'd"], toks["typo'd, corrected"]
    changed = [q.id for q in queries if set(typo[q.id]) != set(clean[q.id])]
    return {
        "queries": len(queries), "docs": len(ds.docs), "scores": scores,
        "typo_changed_tokens": len(changed),
        "corrected": sum(set(fixed[q]) != set(typo[q]) for q in changed),
        "restored": sum(set(clean[q]) <= set(fixed[q]) for q in changed),
        "clean_touched": sum(set(toks["clean, corrected"][q.id]) != set(clean[q.id]) for q in queries),
        "vocab_load_ms": ranker.load_seconds * 1e3,
        "fix_ms": _ms(seconds), "fixed_queries": len(seconds),
        "examples": [(q.text, typod[q.id], " ".join(typo[q.id]), " ".join(fixed[q.id])) for q in queries[:40:8]],
    }


def measure_hybrid(name: str, max_queries: int, typist: Typist) -> dict:
    """Hybrid nDCG@10 through `Searcher.search_many` with the real model: clean, typo'd, typo'd corrected."""
    from bench.quality import index_dataset

    ds = datasets.load(name, max_queries)
    index = index_dataset(ds)
    searcher = Searcher(index, budget=Budget.unlimited())
    plain = Searcher(index, embedder=searcher.embedder, correct_typos=False, budget=Budget.unlimited())  # one query-vector cache for both
    queries = [Query(q["id"], q["text"], q.get("lang")) for q in ds.queries]
    typod = [typist(q.id, q.text) for q in queries]
    out = {}
    for label, texts, s in (("hybrid, clean", [q.text for q in queries], searcher),
                            ("hybrid, typo'd", typod, plain), ("hybrid, typo'd, corrected", typod, searcher)):
        run = {}
        for start in range(0, len(texts), 64):
            for q, r in zip(queries[start:start + 64], s.search_many(texts[start:start + 64], k=10)):
                run[q.id] = [x.id for x in r.results]
        out[label] = evaluate(run, queries, ds.qrels)["all"]
    return dict(out, queries=len(queries))


def _ms(seconds: list[float]) -> dict:
    if not seconds:
        return {}
    s = sorted(seconds)
    return {"mean": statistics.mean(s) * 1e3, "p50": s[len(s) // 2] * 1e3, "p95": s[int(len(s) * 0.95)] * 1e3}


# --- cost at 100k chunks ---------------------------------------------------------

def measure_large(typist: Typist, n_chunks: int = 100_000, n_queries: int = 200) -> dict:
    """Vocabulary load, correction and keyword stage at `n_chunks` chunks recombined from the corpora."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import synth

    path = datasets.WORK / "typos-large" / "kb.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    units = [(u.lang, languages.tokenize(u.title + "\n" + u.text, u.lang)) for u in synth.shared_units()]
    rng = random.Random(3)
    conn = create(path)
    conn.executemany(
        "INSERT INTO articles (rowid, id, lang, title, path, visibility, tags, content_hash, file_sha, body, body_line)"
        " VALUES (?, ?, ?, ?, ?, 'public', '[]', '', '', '', 1)",
        [(a, f"a{a}", "en", "", f"a{a}.md") for a in range(1, n_chunks // 4 + 1)])
    rows = []
    for c in range(1, n_chunks + 1):
        lang, toks = rng.choice(units)
        start = rng.randrange(max(1, len(toks) - 40))
        rows.append((c, " ".join(toks[start:start + rng.randint(40, 160)])))
    conn.executemany("INSERT INTO chunks (rowid, article, ord, heading, anchor, heading_path, text, embed_text, vector)"
                     " VALUES (?, ?, 0, '', '', '[]', '', '', x'')", [(c, (c - 1) // 4 + 1) for c, _ in rows])
    conn.executemany("INSERT INTO chunks_fts (rowid, tokens) VALUES (?, ?)", rows)
    t = time.perf_counter()
    store = Store(conn)
    store.write_vocabulary(typos.lookup_keys)
    conn.commit()
    build = time.perf_counter() - t
    t = time.perf_counter()
    vocab = typos.Vocabulary.load(store)
    load = time.perf_counter() - t
    n_common = COMMON_SHARE * n_chunks  # as kb/search/retrieve.py does from COMMON_FROM_CHUNKS on
    dfs, fix_wall, fix_cpu, plain, fixed = [], [], [], [], []
    for name, lang in SETS.items():
        for q in datasets.load(name, n_queries // len(SETS)).queries:
            text = typist(q["id"], q["text"])
            tokens = list(dict.fromkeys(languages.tokenize(text, lang)))
            t = time.perf_counter()
            df = store.doc_frequencies(tokens)
            dfs.append(time.perf_counter() - t)
            t, c = time.perf_counter(), time.thread_time()
            correction = vocab.correct(text, tokens, df, lang)
            fix_wall.append(time.perf_counter() - t)
            fix_cpu.append(time.thread_time() - c)
            df = {**df, **correction.df}
            for out, toks in ((plain, tokens), (fixed, correction.tokens)):
                common = [tok for tok in toks if df.get(tok, 0) > n_common]
                t = time.perf_counter()
                store.keyword_search(toks, PUBLIC, CANDIDATES, common)
                out.append(time.perf_counter() - t)
    terms = conn.execute("SELECT count(*) FROM vocab").fetchone()[0]
    keys = conn.execute("SELECT count(*) FROM vocab_keys").fetchone()[0]
    conn.close()
    return {"chunks": n_chunks, "terms": terms, "keys": keys, "build_s": build, "load_ms": load * 1e3,
            "db_mb": path.stat().st_size / 1e6, "df_ms": _ms(dfs), "fix_ms": _ms(fix_wall),
            "fix_cpu_ms": _ms(fix_cpu), "keyword_ms": _ms(plain), "keyword_corrected_ms": _ms(fixed),
            "queries": len(fix_wall)}


# --- report ------------------------------------------------------------------------

LABELS = ("clean", "clean, corrected", "typo'd", "typo'd, corrected", "Searcher, typo'd")


def write(results: dict, large: dict | None, args, seconds: float) -> Path:
    lines = [f"# Typo tolerance of the keyword side ({dt.date.today().isoformat()})", "",
             f"`python bench/typos.py --max-queries {args.max_queries}"
             + (f" --hybrid {args.hybrid}" if args.hybrid else "") + f"` ({seconds / 60:.0f} min). "
             "Keyword-only nDCG@10 / Recall@10 of the same queries, clean and with 1-2 seeded typos, without and "
             "with correction (kb/search/typos.py); how the typos and the ranking are made: the docstring of "
             "bench/typos.py.", "",
             "| set | queries | " + " | ".join(LABELS) + " |", "|---|---|" + "---|" * len(LABELS)]
    for name, r in results.items():
        cells = [f"{r['scores'][k]['ndcg@10']:.3f} / {r['scores'][k]['recall@10']:.3f}" for k in LABELS]
        lines.append(f"| {name} | {r['queries']} | " + " | ".join(cells) + " |")
    lines += ["", "What the correction did:", "",
              "| set | typo'd queries whose tokens changed | corrected | all clean tokens back | clean queries "
              "touched | correction CPU ms mean / p95 | vocabulary load ms |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        ms = r["fix_ms"]
        lines.append(f"| {name} | {r['typo_changed_tokens']} | {r['corrected']} | {r['restored']} | "
                     f"{r['clean_touched']} | {ms.get('mean', 0):.2f} / {ms.get('p95', 0):.2f} | "
                     f"{r['vocab_load_ms']:.0f} |")
    hybrid = {name: r["hybrid"] for name, r in results.items() if r.get("hybrid")}
    if hybrid:
        lines += ["", "## Hybrid, through the search with the real model (`--hybrid`)", "",
                  "nDCG@10 / Recall@10 of `Searcher.search_many` in hybrid mode, each set indexed as "
                  "bench/quality.py indexes it. \"typo'd\": the search with its vocabulary replaced by one that "
                  "corrects nothing; \"corrected\": the search as it is.", "",
                  "| set | queries | hybrid, clean | hybrid, typo'd | hybrid, typo'd, corrected |", "|---|---|---|---|---|"]
        for name, h in hybrid.items():
            lines.append(f"| {name} | {h['queries']} | " + " | ".join(
                f"{h[k]['ndcg@10']:.3f} / {h[k]['recall@10']:.3f}"
                for k in ("hybrid, clean", "hybrid, typo'd", "hybrid, typo'd, corrected")) + " |")
    if large:
        lines += ["", f"## Cost at {large['chunks']:,} chunks", "",
                  f"FTS-only knowledge base recombined from the corpora bench/synth.py uses ({large['terms']:,} terms, "
                  f"{large['keys']:,} Han lookup keys, kb.sqlite {large['db_mb']:.0f} MB); {large['queries']} typo'd "
                  "queries from the sets above.", "",
                  "| what | mean ms | p50 ms | p95 ms |", "|---|---|---|---|"]
        for label, key in (("`Store.doc_frequencies` of the query's tokens (today's cost, paid anyway)", "df_ms"),
                           ("`Vocabulary.correct`, wall", "fix_ms"), ("`Vocabulary.correct`, CPU of its thread", "fix_cpu_ms"),
                           ("`Store.keyword_search`, typo'd tokens", "keyword_ms"),
                           ("`Store.keyword_search`, corrected tokens", "keyword_corrected_ms")):
            ms = large[key]
            lines.append(f"| {label} | {ms['mean']:.2f} | {ms['p50']:.2f} | {ms['p95']:.2f} |")
        lines += ["", f"Writing the vocabulary at index time: {large['build_s']:.1f} s; loading it when a generation "
                  f"opens: {large['load_ms']:.0f} ms."]
    lines += ["", "## Examples (clean → typo'd: tokens typo'd → corrected)", ""]
    for name, r in results.items():
        for clean, typod, before, after in r["examples"]:
            lines.append(f"- {name}: `{clean}` → `{typod}`: `{before}` → `{after}`")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return args.out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    ap.add_argument("--max-queries", type=int, default=300, help="an even sample of each set's queries")
    ap.add_argument("--no-large", action="store_true", help="skip the cost measurement at 100k chunks")
    ap.add_argument("--hybrid", type=int, default=0, metavar="N",
                    help="also run N queries per set in hybrid mode with the real model (indexes each set with it)")
    ap.add_argument("--out", type=Path, default=RESULTS / "typos.md")
    args = ap.parse_args(argv)
    embeddings.BACKENDS[MODEL] = lambda arg: HashEmbedder()
    started = time.monotonic()
    typist = Typist()
    results = {}
    for name in args.sets:
        print(f"{name}:", flush=True)
        results[name] = measure_set(name, SETS[name], args.max_queries, typist)
        if args.hybrid:
            results[name]["hybrid"] = measure_hybrid(name, args.hybrid, typist)
        if SETS[name] == "zh":  # what a pinyin keyboard gets wrong, alone
            results[f"{name}, homophones only"] = measure_set(name, "zh", args.max_queries, Typist(homophones=1.0))
        for label, s in results[name]["scores"].items():
            print(f"  {label:20} nDCG@10 {s['ndcg@10']:.3f}  R@10 {s['recall@10']:.3f}", flush=True)
    large = None if args.no_large else measure_large(typist)
    args.out.with_suffix(".json").write_text(json.dumps({"sets": results, "large": large}, indent=1, sort_keys=True,
                                                   ensure_ascii=False))
    print(f"wrote {write(results, large, args, time.monotonic() - started)}")


if __name__ == "__main__":
    main()
