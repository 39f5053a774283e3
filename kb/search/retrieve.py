"""The two retrieval sides and what they found, per chunk and per article version.

Dense: the query's vectors (one, or a ticket's whole text plus its pieces)
against FAISS, best cosine per chunk. Keyword: FTS5 bm25 over tokenised
chunks, plus `coverage`, the share of the query's information (IDF mass) that
the best keyword hit contains, which tells fusion how far to trust it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from kb.search import fusion, novelty
from kb.text import languages
from kb.index import vectors
from kb.search.generation import Generation
from kb.search.query_text import is_ticket, keyword_text
from kb.search.request import SearchRequest
from kb.search.typos import Correction
from kb.index.store import ArticleFilter, Store

# Large knowledge bases only: a word in more than COMMON_SHARE of the chunks scores keyword matches but
# does not make one. At 100k chunks the keyword stage drops from 32 to 17 ms (p50) and the keyword top
# result stays the same for 89.5% of queries; forced on the small benchmark sets it costs keyword-only
# nDCG@10 0.5-2 points and hybrid 0.005 on stackfaq (±0.001 elsewhere), so below COMMON_FROM_CHUNKS,
# where the keyword stage takes a few milliseconds anyway, every word matches.
COMMON_SHARE = 0.1
COMMON_FROM_CHUNKS = 50_000
MAX_KEYWORD_TOKENS = 48  # most informative tokens of a long query kept for FTS


@dataclass
class KeywordSide:
    chunks: dict[int, float]  # chunk rowid → bm25
    coverage: float
    tokens: list[str]
    seconds: float = 0.0
    known: float = 1.0  # share of the query's tokens (by count) that occur anywhere in the index
    ticket: bool = False  # a pasted message rather than a typed question (kb/query_text.is_ticket)
    spelled: str = ""  # the query with its typos corrected, for the dense side to embed too ("" if none)
    bare: str = ""  # a typed question without the words the index lacks (kb/search/novelty.py; "" if none)
    novel: tuple[str, ...] = ()  # those words, as typed


NO_KEYWORDS = KeywordSide({}, 0.0, [])


class _AsTyped:
    """A vocabulary that corrects nothing: every query word stays as typed."""

    @staticmethod
    def correct(text, tokens, df, lang=None) -> Correction:
        return Correction(list(tokens))


AS_TYPED = _AsTyped()


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Everything both sides found for one query, restricted to what the request may see."""

    chunk_dense: dict[int, float]  # chunk rowid → best cosine over the query's vectors
    chunk_kw: dict[int, float]  # chunk rowid → bm25
    chunk_article: dict[int, int]  # chunk rowid → article version rowid (allowed ones only)
    dense: dict[int, float]  # article version rowid → best chunk cosine
    best_chunk: dict[int, int]  # article version rowid → that best chunk's rowid
    keyword: fusion.KeywordEvidence  # article version rowid → best chunk bm25, and how far to trust it
    known: float = 1.0  # share of the query's keyword tokens the index has at all (keyboard mash: 0)
    qvecs: object = None  # the query's vectors (None in keyword mode), to score sections that matched nothing
    # the same evidence with the typo-corrected query's vector beside the typed one's: what the answered decision
    # reads (pipeline.judge); None when no typo was corrected
    judged: Evidence | None = None
    bare: np.ndarray | None = None  # the vector of the typed question without the words the index lacks, if any
    novel: tuple[str, ...] = ()  # those words


def keyword_side(gen: Generation, req: SearchRequest, query: str, detected_lang: str | None,
                 correct_typos: bool = True) -> KeywordSide:
    """Keyword candidates; runs on a pool while the calling thread embeds the query.

    The two do not depend on each other; side by side, a search waits for
    the slower of them instead of both (100k chunks: the FTS5 query is
    longer than the embedding) and a second core does the keyword work.
    """
    t = time.perf_counter()
    allowed = ArticleFilter(req.public, req.lang, req.product, tuple(req.tags or ()))
    tokens, weights, common, known, spelled, unknown = keyword_tokens(gen, keyword_text(query), detected_lang,
                                                                      req.public, correct_typos)
    store = gen.keywords(req.public)  # public searches: statistics of public chunks only
    chunks = dict(store.keyword_search(tokens, allowed, req.depth, common))
    coverage = 0.0
    if chunks:
        coverage = _coverage(store, max(chunks, key=chunks.get), weights)
    ticket = is_ticket(query)
    bare, novel = ("", ()) if ticket else _bare(store, query, detected_lang, unknown)
    return KeywordSide(chunks, coverage, tokens, time.perf_counter() - t, known, ticket, spelled, bare, novel)


def _bare(store: Store, query: str, lang: str | None, unknown: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """The typed question without the words no chunk has, and those words (("", ()) when it has none, or only
    those)."""
    def known(word: str) -> bool:
        tokens = languages.tokenize(word, lang)
        return len(tokens) == 1 and bool(store.term_counts(tokens).get(tokens[0]))

    words = novelty.unknown_words(query, lang, set(unknown), known)
    bare = novelty.without(query, words) if words else ""
    return (bare, novelty.shown(query, lang, words)) if bare else ("", ())


def keyword_tokens(gen: Generation, query: str, lang: str | None, public: bool = False, correct_typos: bool = True
                   ) -> tuple[list[str], dict[str, float], list[str], float, str, frozenset[str]]:
    """(tokens, their IDF weights, the common ones, which only score (see COMMON_SHARE), share known, the query
    with its typos corrected or "", the tokens no chunk has even so), from the statistics of the chunks the
    audience may see; `correct_typos` False keeps every word as typed (benchmarks)."""
    tokens = list(dict.fromkeys(languages.tokenize(query, lang)))
    n_chunks = gen.chunk_total(public)
    df = gen.keywords(public).term_counts(tokens)  # the vocab copy: FTS5's vocabulary table scans (2 ms at 100k)
    vocab = gen.vocab(public) if correct_typos else AS_TYPED
    fixed = vocab.correct(query, tokens, df, lang)  # words no chunk has, matched to words it has
    tokens = fixed.tokens
    df.update(fixed.df)
    unknown = frozenset(t for t in tokens if not df.get(t))
    known = (len(tokens) - sum(1 for t in tokens if t in unknown)) / len(tokens) if tokens else 0.0
    weights = {t: fusion.idf(df.get(t, 0), n_chunks) * fixed.weight(t) for t in tokens}
    if len(tokens) > MAX_KEYWORD_TOKENS:
        present = [t for t in tokens if df.get(t)]
        tokens = sorted(present, key=weights.get, reverse=True)[:MAX_KEYWORD_TOKENS]
        weights = {t: weights[t] for t in tokens}
    common = ([t for t in tokens if df.get(t, 0) > COMMON_SHARE * n_chunks]
              if n_chunks >= COMMON_FROM_CHUNKS else [])
    return tokens, weights, common, known, fixed.text, unknown


def dense_side(gen: Generation, req: SearchRequest, qvecs) -> dict[int, float]:
    """chunk rowid → best cosine over the query's vectors."""
    out: dict[int, float] = {}
    if qvecs is None:
        return out
    index = gen.index(req.public)
    for qv in qvecs:
        for cid, s in vectors.search(index, qv, req.depth):
            if s > out.get(cid, -1.0):
                out[cid] = s
    return out


def collect(gen: Generation, req: SearchRequest, qvecs, kw: KeywordSide, query_lang: str | None = None,
            timings: dict[str, float] | None = None, spelled=None) -> Evidence:
    """Both sides' evidence for ranking; with `spelled` (the typo-corrected query's vector), also `judged`."""
    ev = _collect(gen, req, qvecs, kw, query_lang, timings)
    if spelled is None or qvecs is None:
        return ev
    return dataclasses.replace(ev, judged=_collect(gen, req, np.vstack([qvecs, spelled]), kw, query_lang, None))


def _collect(gen: Generation, req: SearchRequest, qvecs, kw: KeywordSide, query_lang: str | None,
             timings: dict[str, float] | None) -> Evidence:
    """Both sides' chunks, grouped by the article versions the request may see; the sides' seconds go to `timings`."""
    t = time.perf_counter()
    chunk_dense = dense_side(gen, req, qvecs)
    if timings is not None:
        timings.update(dense=time.perf_counter() - t, keyword=kw.seconds)
    arts = gen.articles
    chunk_article = {}
    allowed: dict[int, bool] = {}  # per version, not per chunk: a version's chunks come in groups
    for cid in set(chunk_dense) | set(kw.chunks):
        a = gen.chunk_article[cid]
        ok = allowed.get(a)
        if ok is None:
            ok = allowed[a] = req.allows(arts[a])
        if ok:
            chunk_article[cid] = a
    dense_art: dict[int, float] = {}
    best_chunk: dict[int, int] = {}
    kw_art: dict[int, float] = {}
    for cid, s in chunk_dense.items():
        a = chunk_article.get(cid)
        if a is not None and s > dense_art.get(a, -9):
            dense_art[a] = s
            best_chunk[a] = cid
    for cid, s in kw.chunks.items():
        a = chunk_article.get(cid)
        if a is not None and s > kw_art.get(a, -9):
            kw_art[a] = s
    return Evidence(chunk_dense={c: s for c, s in chunk_dense.items() if c in chunk_article},
                    chunk_kw={c: s for c, s in kw.chunks.items() if c in chunk_article}, chunk_article=chunk_article,
                    dense=dense_art, best_chunk=best_chunk,
                    keyword=fusion.KeywordEvidence(kw_art, kw.coverage, len(kw.tokens), kw.ticket,
                                                   _without_own_language(gen, dense_art, query_lang)),
                    known=kw.known, qvecs=qvecs)


def _without_own_language(gen: Generation, versions, lang: str | None) -> frozenset:
    """The versions among these whose article has no version in `lang` at all."""
    return frozenset(a for a in versions
                     if lang and all(v.lang != lang for v in gen.groups[gen.articles[a].id]))


def _coverage(store: Store, chunk_id: int, weights: dict[str, float]) -> float:
    """Share of the query's IDF mass that appears in one chunk."""
    have = set(store.chunk_tokens(chunk_id))
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0
