"""Hybrid search: the Searcher runs the stages in order and keeps what outlives one search.

Stages, each in its own module: the request (kb/search/request.py), both retrieval
sides (kb/search/retrieve.py), fusion (kb/search/fusion.py), whether anything answers
(kb/search/answerability.py), one result per article in the reader's language
(kb/search/results.py) and the section to show (kb/search/sections.py). Public callers
search an index that contains no internal chunk at all, and every SQL query
filters on visibility as well: internal text cannot leak through search,
snippets or counts.

What one search may cost is bounded (kb/search/budget.py): the stages work on the
bounded text of the query (kb/query_text.bounded), the embedder gets at most
`Budget.embed_tokens` tokens of it, and a stage that overruns its time is
skipped or cut short, which the response says (`Response.degraded`).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from kb.search import answerability, retrieve as candidates, sections
from kb.text import languages
from kb.index import vectors
from kb.search.budget import DENSE, KEYWORD, RENDER, Budget, EmbeddingSlots
from kb.search import fusion as fusion_mod
from kb.embeddings import CachedEmbedder, get_embedder
from kb.errors import ModelMismatchError
from kb.search.generation import Generation, current, open_generation
from kb.index.format import current_token
from kb.search.query_text import bounded, embedding_pieces, prose, within_tokens
from kb.search.request import CANDIDATES, MAX_K, MAX_QUERY_CHARS, MODES, SearchRequest, checked_query  # noqa: F401
from kb.search.results import Response, Result, display_language, make_result, rank_groups, shown_version
from kb.index.store import ArticleRow, Store

RESPONSE_CACHE = 2048  # whole responses of recent searches (help-center queries repeat: Zipf)
KEYWORD_THREADS = 4  # keyword searches running beside query embeddings (waitress's default threads)
CACHEABLE_CHARS = 500  # pasted tickets rarely repeat; keep them out of the cache

__all__ = ["Searcher", "SearchRequest", "Response", "Result"]


class Searcher:
    """Searches the served generation of an index folder; picks up new generations by itself."""

    def __init__(self, index_dir: Path, model: str | None = None, fusion=None, recheck_seconds: float = 1.0,
                 min_answer_score: float | None = None, budget: Budget | None = None):
        self.index_dir = Path(index_dir)
        self.answer_model = answerability.DEFAULT
        self.min_answer_score = min_answer_score  # None: the model's own threshold
        self._model_spec = model
        self._embedder: CachedEmbedder | None = None
        self.fusion = fusion or fusion_mod.DEFAULT
        self._gen: Generation | None = None
        self._lock = threading.Lock()
        self._checked = 0.0
        self._recheck = recheck_seconds
        self._responses: LRUCache = LRUCache(RESPONSE_CACHE)
        self._responses_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(KEYWORD_THREADS, thread_name_prefix="kb-keyword")
        self.budget = budget or Budget()
        self._slots: EmbeddingSlots | None = None
        self.generation()  # fail at start, not on the first visitor, if the index is missing or corrupt

    # --- generations -------------------------------------------------------

    def notice_new_generation(self):
        """Look for a newly published generation on the next call, not up to `recheck_seconds` later.

        For a publisher in this process (the editor's background index), so "searchable since" is true at once.
        """
        self._checked = 0.0

    def generation(self) -> Generation:
        now = time.monotonic()
        gen = self._gen
        if gen is not None and now - self._checked < self._recheck:
            return gen
        self._checked = now
        token = current_token(self.index_dir)
        if gen is not None and token == gen.name:
            return gen
        with self._lock:
            if self._gen is None or self._gen.name != token:
                path, manifest = current(self.index_dir)
                self._check_model(manifest)
                self._gen = open_generation(path, manifest)
            return self._gen

    def _check_model(self, manifest: dict):
        built = manifest["embedder"]
        if self._model_spec is None:
            wanted = built if built == get_embedder().name else None
        else:
            wanted = get_embedder(self._model_spec).name
        if wanted != built:
            asked = wanted or "the default model"
            raise ModelMismatchError(
                f"the index in {self.index_dir} was built with {built!r} but the search uses {asked!r}; "
                f"search with the model that built it, or re-index with `kb index --model ...`")
        if self._embedder is None:
            self._embedder = CachedEmbedder(get_embedder(self._model_spec))
            self.answer_model = answerability.model_for(built)
            engines = getattr(self._embedder.inner, "engines", 2)
            self._slots = EmbeddingSlots(self.budget.slots or engines, self.budget.slot_wait)

    @property
    def embedder(self) -> CachedEmbedder:
        return self._embedder

    @property
    def store(self) -> Store:
        return self.generation().store

    def languages(self, audience: str = "public") -> set[str]:
        return set(self.generation().languages(audience == "public"))

    # --- articles ----------------------------------------------------------

    def versions(self, article_id: str, audience: str = "public") -> list[ArticleRow]:
        """The versions of an article this audience may see (none: it does not exist for them)."""
        return self.generation().visible(article_id, audience)

    def article(self, article_id: str, lang: str | None, audience: str = "public") -> tuple[ArticleRow, str] | None:
        """(row, Markdown body) of the version in `lang`, or of the best other version; None if not visible."""
        gen = self.generation()  # one generation for the row and its body: rowids differ between generations
        versions = gen.visible(article_id, audience)
        if not versions:
            return None
        by_lang = {v.lang: v for v in versions}
        row = by_lang.get(lang) or by_lang.get("en") or versions[0]
        return row, gen.store.body(row.rowid)

    def related(self, article_id: str, lang: str | None, audience: str = "public", k: int = 5) -> list[Result]:
        """Semantic neighbours of an article: other groups nearest to its mean chunk vector."""
        gen = self.generation()
        versions = gen.visible(article_id, audience)
        if not versions:
            return []
        vecs = [gen.store.vectors_of(v.rowid)[1] for v in versions]
        vecs = [m for m in vecs if len(m)]
        if not vecs:
            return []
        centre = np.vstack(vecs).mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        req = SearchRequest(audience=audience)
        hits = vectors.search(gen.index(req.public), centre, CANDIDATES)
        best: dict[str, tuple[float, int]] = {}
        for cid, s in hits:
            a = gen.articles[gen.chunk_article[cid]]
            if a.id != article_id and req.allows(a) and s > best.get(a.id, (-9, 0))[0]:
                best[a.id] = (s, a.rowid)
        out = []
        for art_id, (score, rowid) in sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)[:k]:
            vs = {v.lang: v for v in gen.visible(art_id, audience)}
            shown = vs.get(lang) or gen.articles[rowid]
            out.append(Result(id=art_id, lang=shown.lang, title=shown.title, section="", anchor="", score=score,
                              snippet="", visibility=shown.visibility, product=shown.product, tags=shown.tags,
                              fallback=bool(lang) and shown.lang != lang, languages=tuple(sorted(vs))))
        return out

    # --- search ------------------------------------------------------------

    def search(self, query: str, **request) -> Response:
        """One query; keyword arguments are SearchRequest's fields (audience, lang, ui_lang, product, tags,
        mode, k, offset)."""
        return self.search_many([query], **request)[0]

    def search_many(self, queries: list[str], **request) -> list[Response]:
        """Search several queries; their embeddings are computed in one batch.

        Repeats of a recent search are answered from an LRU of whole responses,
        keyed by the generation and the whole request, so a new index is never
        answered from the old one. bench/speed: a repeat with only its
        embedding cached still cost 10-15 ms of CPU (detection, keyword side,
        fusion, snippets); from this cache it is well under a millisecond.
        """
        queries = [checked_query(q) for q in queries]
        req = SearchRequest(**request).checked()
        gen = self.generation()
        args = (gen.name, self.fusion, self.answer_model, self.min_answer_score, req)
        keys = [(q, *args) if len(q) <= CACHEABLE_CHARS else None for q in queries]
        out: list[Response | None] = [self._cached(key) if q else _nothing(q, req) for q, key in zip(queries, keys)]
        todo = [i for i, r in enumerate(out) if r is None]
        if not todo:
            return out
        for i, ev, detected, degraded in self._evidence(gen, req, [bounded(queries[i]) for i in todo]):
            resp = self._respond(gen, req, queries[todo[i]], ev, detected, degraded)
            out[todo[i]] = resp
            if keys[todo[i]] is not None and not resp.degraded:  # a degraded answer is not the answer
                with self._responses_lock:
                    self._responses[keys[todo[i]]] = resp
        return [_copy(r) for r in out]

    def evidence(self, queries: list[str], **request) -> list[tuple[candidates.Evidence, languages.Detection]]:
        """What both retrieval sides found for each query, before fusion (benchmarks fit fusion on this)."""
        req = SearchRequest(**request).checked()
        gen = self.generation()
        return [(ev, det) for _, ev, det, _ in self._evidence(gen, req, [bounded(checked_query(q)) for q in queries])]

    def _evidence(self, gen: Generation, req: SearchRequest, queries: list[str]):
        """(position, Evidence, Detection, stages degraded) per query, for bounded query texts; keyword sides run on
        the pool while the query is embedded."""
        available = gen.languages(req.public)
        detected, keyword, detect_seconds = [], [], []
        for q in queries:
            t = time.perf_counter()
            detected.append(languages.detect(prose(q), available, req.ui_lang or gen.main_lang))
            detect_seconds.append(time.perf_counter() - t)
            keyword.append(self._pool.submit(candidates.keyword_side, gen, req, q, detected[-1].lang)
                           if req.mode != "dense" else None)
        t0 = time.perf_counter()
        qvecs = self._embed_queries(queries) if req.mode != "keyword" else [None] * len(queries)
        degraded = {DENSE} if qvecs is None else set()
        qvecs = qvecs or [None] * len(queries)
        t_embed = (time.perf_counter() - t0) / len(queries)
        kw_deadline = t0 + self.budget.keyword_seconds
        for i, (qv, kw) in enumerate(zip(qvecs, keyword)):
            side, late = self._keyword_result(kw, kw_deadline)
            ev = candidates.collect(gen, req, qv, side, detected[i].lang)
            ev.qvecs = qv
            ev.timings.update(detect=detect_seconds[i], embed=t_embed)
            yield i, ev, detected[i], degraded | late

    @staticmethod
    def _keyword_result(kw, deadline: float) -> tuple[candidates.KeywordSide, set[str]]:
        """The keyword side's result, or none (and the stage marked degraded) once its time is up."""
        if not isinstance(kw, Future):
            return candidates.NO_KEYWORDS, set()
        try:
            return kw.result(timeout=max(0.0, deadline - time.perf_counter())), set()
        except FutureTimeout:
            return candidates.NO_KEYWORDS, {KEYWORD}

    def _respond(self, gen: Generation, req: SearchRequest, query: str, ev: candidates.Evidence,
                 detected: languages.Detection, degraded: set[str] = frozenset()) -> Response:
        want = req.lang or display_language(query, detected, req.ui_lang, gen.languages(req.public))
        work = bounded(query)
        timings = dict(ev.timings)
        t = time.perf_counter()
        if req.mode == "dense" or KEYWORD in degraded:
            fused = ev.dense
        elif req.mode == "keyword" or DENSE in degraded:
            fused = ev.keyword.scores
        else:
            fused = self.fusion.combine(ev.dense, ev.keyword)
        ranked = rank_groups(gen, fused)
        timings["fusion"] = time.perf_counter() - t

        t = time.perf_counter()
        page = ranked[req.offset:req.offset + req.k]
        results = []
        for art_id, rows in page:
            if time.perf_counter() - t > self.budget.render_seconds:
                degraded = degraded | {RENDER}  # the results rendered so far
                break
            version, langs = shown_version(gen, req, art_id, rows, want)
            chunk = sections.section_to_show(gen, version.rowid, ev)
            results.append(make_result(gen, art_id, version, langs, fused[rows[0]], chunk, work, want))
        timings["render"] = time.perf_counter() - t
        t = time.perf_counter()
        answered = self._answered(gen, req, ev, ranked, work)
        timings["answered"] = time.perf_counter() - t
        return Response(query, detected, want, results, len(ranked), req.mode, timings, answered,
                        tuple(sorted(degraded)))

    def _answered(self, gen: Generation, req: SearchRequest, ev: candidates.Evidence,
                  ranked: list[tuple[str, list[int]]], query: str) -> bool:
        """Whether the best result is likely to answer the query (kb/search/answerability.py)."""
        if not ranked:
            return False
        if req.mode == "keyword" or ev.qvecs is None:  # no cosine to judge by: words the index has at all
            return ev.known > 0
        top = sorted(ev.dense, key=ev.dense.get, reverse=True)[:answerability.RAW_CANDIDATES]
        chunk_group = {ev.best_chunk[a]: gen.articles[a].id for a in top}
        raw = answerability.raw_cosines(ev.qvecs, {ev.best_chunk[a]: gen.chunk_vector(a, ev.best_chunk[a]) for a in top},
                                        chunk_group)
        kw = ev.keyword.scores
        kw_best = gen.articles[max(kw, key=kw.get)].id if kw else None
        best_version = ranked[0][1][0]
        centred = max((ev.dense.get(v, 0.0) for v in ranked[0][1]), default=0.0)
        text = prose(query)
        signals = answerability.signals([art_id for art_id, _ in ranked], raw, kw_best, ev.keyword.coverage, ev.known,
                                        answerability.cross_script(text, gen.articles[best_version].lang),
                                        centred, answerability.script_in(text, gen.languages(req.public)))
        return self.answer_model.answered(signals, self.min_answer_score)

    def _cached(self, key) -> Response | None:
        if key is None:
            return None
        t = time.perf_counter()
        with self._responses_lock:
            resp = self._responses.get(key)
        if resp is None:
            return None
        return dataclasses.replace(resp, results=list(resp.results), timings={"cache": time.perf_counter() - t})

    def _embed_queries(self, queries: list[str]) -> list[np.ndarray] | None:
        """One matrix per query: its prose, plus each paragraph-sized piece of a long one (tickets), within the
        token budget; None when the embedding overran its time (it finishes in the background, into the cache)."""
        count = self._embedder.count_tokens
        pieces = [within_tokens(embedding_pieces(prose(q)), count, self.budget.embed_tokens) for q in queries]
        flat = [p for ps in pieces for p in ps]
        if self._embedder.has_queries(flat):
            vecs = self._embedder.embed_queries(flat)
        else:
            vecs = self._slots.run(self._embedder.embed_queries, flat, timeout=self.budget.embed_seconds)
            if vecs is None:
                return None
        out, pos = [], 0
        for ps in pieces:
            out.append(vecs[pos:pos + len(ps)])
            pos += len(ps)
        return out


def _nothing(query: str, req: SearchRequest) -> Response:
    """The answer to a query of invisible characters only (control or format characters): no words, no results."""
    return Response(query, languages.Detection(None, 0.0, "no printable characters"), req.lang, [], 0, req.mode,
                    {}, answered=False)


def _copy(resp: Response) -> Response:
    """A response the caller may change without changing the cached one."""
    return dataclasses.replace(resp, results=list(resp.results), timings=dict(resp.timings))
