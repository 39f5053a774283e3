"""Which section of an article to show for a query: the one a result links to, snippets and pastes.

Per article version, the best-matching chunk by the same mix of signals as
the ranking (dense cosine plus a small keyword bonus), so a result points at
the section that matched, not at the top of the article.
"""

from __future__ import annotations

from .candidates import Evidence, section_vectors
from .store import ChunkRow, Store

KEYWORD_BONUS = 0.1  # bm25 relative to the query's best keyword chunk, scaled into the cosine range


def chunk_scores(ev: Evidence) -> dict[int, float]:
    """chunk rowid → match score, for every chunk either side found."""
    kw_max = max(ev.chunk_kw.values(), default=1.0) or 1.0
    return {cid: ev.chunk_dense.get(cid, 0.0) + KEYWORD_BONUS * ev.chunk_kw.get(cid, 0.0) / kw_max
            for cid in ev.chunk_article}


def best_chunks(ev: Evidence) -> dict[int, int]:
    """article version rowid → its best-matching chunk rowid."""
    scores = chunk_scores(ev)
    best: dict[int, tuple[float, int]] = {}
    for cid, a in ev.chunk_article.items():
        if scores[cid] > best.get(a, (-9.0, 0))[0]:
            best[a] = (scores[cid], cid)
    return {a: cid for a, (_, cid) in best.items()}


def best_section(store: Store, rowid: int, qvecs) -> ChunkRow | None:
    """The best section of a version that matched nothing itself (the reader's language of a fallback)."""
    chunks = store.chunks_of(rowid)
    if not chunks:
        return None
    scores = section_vectors(store, rowid, qvecs)
    if not scores:
        return chunks[0]
    best = max(scores, key=scores.get)
    return next(c for c in chunks if c.rowid == best)
