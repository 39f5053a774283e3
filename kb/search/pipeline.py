"""A search in named phases: understand → retrieve → fuse → learn → judge → fetch → respond.

`learn` (off unless a learner is given: KB_LEARNING) reorders the fused ranking by what
readers taught (kb/learning) through one method, `rerank(audience, query vector,
[(article id, fused score)])`, returning items with `.article_id`, `.boost` and `.before`:
search never imports kb/learning, nor kb/learning search.

Judging comes before fetching: a search that answers shows only the results within
reach of the first (kb/search/results.within), one that does not shows the closest.

Each phase is a function with a typed input and output, and each is timed by
`timed`, under the name `Response.timings` reports. What one search may cost is
bounded (kb/search/budget.py): the phases work on the bounded text of the query
(kb/search/query_text.bounded), the embedder gets at most `Budget.embed_tokens`
tokens of it, and a phase that overruns its time is skipped or cut short, which
the response says (`Response.degraded`).

Public callers search an index that contains no internal chunk at all, and
every SQL query filters on visibility as well: internal text cannot leak
through search, snippets or counts.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from kb.embeddings import CachedEmbedder
from kb.search import answerability, novelty, retrieve, sections
from kb.search.budget import DENSE, KEYWORD, RENDER, Budget, EmbeddingSlots
from kb.search.generation import Generation
from kb.search.query_text import bounded, embedding_pieces, prose, within_tokens
from kb.search.request import SearchRequest
from kb.search.results import Response, Result, display_language, make_result, rank_groups, shown_version, within
from kb.text import languages

KEYWORD_THREADS = 4  # keyword searches running beside query embeddings (waitress's default threads)


@contextmanager
def timed(stage: str, timings: dict[str, float]):
    """Adds the seconds the block took to `timings[stage]`: the one clock of every phase."""
    t = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t


@dataclass(frozen=True)
class Understood:
    """Phase 1's output: the query as the other phases work on it, and its language."""

    text: str  # bounded: a pasted ticket is cut to what the phases may afford
    detected: languages.Detection
    want: str | None  # the language results are shown in when they exist


@dataclass(frozen=True)
class Ranked:
    """Phase 3's output: fused scores per article version, and articles best first."""

    fused: dict[int, float]
    groups: list[tuple[str, list[int]]]  # (article id, its matched version rowids best first)
    answering: list[tuple[str, list[int]]]  # the leading groups within reach of the first (results.within)
    boosts: dict[str, float] = field(default_factory=dict)  # article id -> what feedback added to its score
    before: dict[str, int] = field(default_factory=dict)  # article id -> its rank before learning (0 first)

    def listed(self, answered: bool) -> list[tuple[str, list[int]]]:
        """The groups a reader is shown, paged from: those that answer when the search answered; else the
        closest ones, all of them (the no-answer page and the agent's weak matches pick from them)."""
        return self.answering if answered else self.groups


def understand(gen: Generation, req: SearchRequest, query: str, timings: dict) -> Understood:
    """Phase 1: the query's text within bounds and its language, with the reader's UI language as a prior."""
    with timed("detect", timings):
        text = bounded(query)
        detected = languages.detect(prose(text), gen.languages(req.public), req.ui_lang or gen.main_lang)
        want = req.lang or display_language(query, detected, req.ui_lang, gen.languages(req.public))
    return Understood(text, detected, want)


class Retriever:
    """Phase 2: both sides for a batch of queries; the keyword sides run on a pool while the queries are embedded."""

    def __init__(self, embedder: CachedEmbedder, budget: Budget, correct_typos: bool = True):
        """`budget`: its embedding slots are made here, once; its times are the caller's at each call."""
        self.embedder = embedder
        self.correct_typos = correct_typos
        self.slots = EmbeddingSlots(budget.slots or getattr(embedder.inner, "engines", 2), budget.slot_wait)
        self.pool = ThreadPoolExecutor(KEYWORD_THREADS, thread_name_prefix="kb-keyword")

    def retrieve(self, gen: Generation, req: SearchRequest, queries: list[Understood], budget: Budget,
                 timings: list[dict]) -> list[tuple[retrieve.Evidence, frozenset[str]]]:
        """(Evidence, stages degraded) per query."""
        keyword = [self.pool.submit(retrieve.keyword_side, gen, req, q.text, q.detected.lang, self.correct_typos)
                   if req.mode != "dense" else None for q in queries]
        t0 = time.perf_counter()
        qvecs = self._embed([q.text for q in queries], budget) if req.mode != "keyword" else [None] * len(queries)
        degraded = frozenset({DENSE}) if qvecs is None else frozenset()
        qvecs = qvecs or [None] * len(queries)
        embed_seconds = (time.perf_counter() - t0) / len(queries)
        sides = [_keyword_result(kw, t0 + budget.keyword_seconds) for kw in keyword]
        spelled = bare = [None] * len(queries)
        if DENSE not in degraded and req.mode != "keyword":
            spelled, bare = self._rewritten([side for side, _ in sides], budget)
        out = []
        for q, qv, (side, late), sv, bv, t in zip(queries, qvecs, sides, spelled, bare, timings):
            t["embed"] = embed_seconds
            ev = retrieve.collect(gen, req, qv, side, q.detected.lang, t, sv)
            out.append((dataclasses.replace(ev, bare=bv, novel=side.novel) if bv is not None else ev, degraded | late))
        return out

    def _rewritten(self, sides: list[retrieve.KeywordSide], budget: Budget) -> tuple[list, list]:
        """Per query, the vectors of its typo-corrected text where the keyword side corrected a typo, and of
        the typed question without the words the index lacks (kb/search/novelty.py), each None where there is
        none; both serve the answered decision only, and only such queries pay the embedding (~15 ms each).

        Ranking stays on the typed text: a correction is sometimes wrong (with any
        of its readings a character "sounds like" many), and 1-12% of the clean
        queries of the dev sets get one (300 a set: cmrc2018 1%, xquad-mono-ru 12%);
        but "推流失拜" embedded as typed is far from the push-failure article it ranks
        first, and was refused."""
        texts = [(i, kind, text) for i, side in enumerate(sides)
                 for kind, text in ((0, side.spelled), (1, side.bare)) if text]
        out: tuple[list, list] = ([None] * len(sides), [None] * len(sides))
        vecs = self._embed([text for _, _, text in texts], budget) if texts else None
        for (i, kind, _), v in zip(texts, vecs or ()):
            out[kind][i] = v[:1]
        return out

    def _embed(self, queries: list[str], budget: Budget) -> list[np.ndarray] | None:
        """One matrix per query: its prose, plus each paragraph-sized piece of a long one (tickets), within the
        token budget; None when the embedding overran its time (it finishes in the background, into the cache)."""
        count = self.embedder.count_tokens
        pieces = [within_tokens(embedding_pieces(prose(q)), count, budget.embed_tokens) for q in queries]
        flat = [p for ps in pieces for p in ps]
        if self.embedder.has_queries(flat):
            vecs = self.embedder.embed_queries(flat)
        else:
            vecs = self.slots.run(self.embedder.embed_queries, flat, timeout=budget.embed_seconds)
            if vecs is None:
                return None
        out, pos = [], 0
        for ps in pieces:
            out.append(vecs[pos:pos + len(ps)])
            pos += len(ps)
        return out


def _keyword_result(kw, deadline: float) -> tuple[retrieve.KeywordSide, frozenset[str]]:
    """The keyword side's result, or none (and the stage marked degraded) once its time is up."""
    if not isinstance(kw, Future):
        return retrieve.NO_KEYWORDS, frozenset()
    try:
        return kw.result(timeout=max(0.0, deadline - time.perf_counter())), frozenset()
    except FutureTimeout:
        return retrieve.NO_KEYWORDS, frozenset({KEYWORD})


def fuse(gen: Generation, req: SearchRequest, ev: retrieve.Evidence, fusion, degraded: frozenset[str],
         timings: dict) -> Ranked:
    """Phase 3: one score per article version from both sides (or the one side left), articles best first."""
    with timed("fusion", timings):
        if req.mode == "dense" or KEYWORD in degraded:
            fused = ev.dense
        elif req.mode == "keyword" or DENSE in degraded:
            fused = ev.keyword.scores
        else:
            fused = fusion.combine(ev.dense, ev.keyword)
        groups = rank_groups(gen, fused)
        fused_scale = req.mode == "hybrid" and not degraded  # the cut reads fusion's scale (kb/search/results.py)
        return Ranked(fused, groups, within(groups, score=lambda g: fused[g[1][0]]) if fused_scale else groups)


def learn(req: SearchRequest, ev: retrieve.Evidence, ranked: Ranked, learner, timings: dict) -> Ranked:
    """Phase 3½: the fused ranking reordered by what this audience's readers taught, within learning's caps.

    Only the candidates fusion found are reordered (a public search has no internal one to lift). What
    answers keeps fusion's reach: the learned order down to the last article fusion's cut kept, so an
    article learning lifted joins them and a boosted first result does not push the others out of reach."""
    if learner is None or ev.qvecs is None or not ranked.groups:
        return ranked
    with timed("learn", timings):
        moved = learner.rerank(req.audience, ev.qvecs[0], [(aid, ranked.fused[rows[0]]) for aid, rows in ranked.groups])
        rows_of = dict(ranked.groups)
        groups = [(m.article_id, rows_of[m.article_id]) for m in moved]
        kept = {aid for aid, _ in ranked.answering}
        reach = max((i for i, (aid, _) in enumerate(groups) if aid in kept), default=-1) + 1
        return Ranked(ranked.fused, groups, groups[:reach], {m.article_id: m.boost for m in moved if m.boost},
                      {m.article_id: m.before for m in moved})


def fetch(gen: Generation, req: SearchRequest, q: Understood, ev: retrieve.Evidence, ranked: Ranked, answered: bool,
          render_seconds: float, timings: dict) -> tuple[list[Result], frozenset[str]]:
    """Phase 5: the page's results, each in the reader's language with its best section and snippet."""
    results, degraded = [], frozenset()
    with timed("render", timings):
        start = time.perf_counter()
        for art_id, rows in ranked.listed(answered)[req.offset:req.offset + req.k]:
            if time.perf_counter() - start > render_seconds:
                degraded = frozenset({RENDER})  # the results rendered so far
                break
            version, langs = shown_version(gen, req, art_id, rows, q.want)
            chunk = sections.section_to_show(gen, version.rowid, ev)
            result = make_result(gen, art_id, version, langs, ranked.fused[rows[0]], chunk, q.text, q.want)
            result.feedback, result.rank_before = ranked.boosts.get(art_id, 0.0), ranked.before.get(art_id)
            results.append(result)
    return results, degraded


@dataclass(frozen=True)
class Verdict:
    answered: bool
    missing: tuple[str, ...] = ()  # not answered because the question rests on these words no article uses


def judge(gen: Generation, req: SearchRequest, q: Understood, ev: retrieve.Evidence, ranked: Ranked,
          model: answerability.AnswerModel, min_score: float | answerability.Cut | None, timings: dict) -> Verdict:
    """Phase 4: whether the best result is likely to answer the query (kb/search/answerability.py)."""
    with timed("answered", timings):
        if not ranked.groups:
            return Verdict(False)
        if req.mode == "keyword" or ev.qvecs is None:  # no cosine to judge by: words the index has at all
            return Verdict(ev.known > 0)
        typed, ev = ev, ev.judged or ev  # with the typo-corrected query's vector, if a typo was corrected
        top = sorted(ev.dense, key=ev.dense.get, reverse=True)[:answerability.RAW_CANDIDATES]
        chunk_group = {ev.best_chunk[a]: gen.articles[a].id for a in top}
        vectors = {ev.best_chunk[a]: gen.chunk_vector(a, ev.best_chunk[a]) for a in top}
        raw = answerability.raw_cosines(ev.qvecs, vectors, chunk_group)
        kw = ev.keyword.scores
        kw_best = gen.articles[max(kw, key=kw.get)].id if kw else None
        best = ranked.groups[0][1]
        centred = max((ev.dense.get(v, 0.0) for v in best), default=0.0)
        text = prose(q.text)
        signals = answerability.signals([art_id for art_id, _ in ranked.groups], raw, kw_best, ev.keyword.coverage,
                                        ev.known, answerability.cross_script(text, gen.articles[best[0]].lang),
                                        centred, answerability.script_in(text, gen.languages(req.public)))
        if not model.answered(signals, min_score):
            return Verdict(False)
        if _novel(gen, typed, best, q.detected.lang, model):
            return Verdict(False, typed.novel)
        return Verdict(True)


def _novel(gen: Generation, ev: retrieve.Evidence, best: list[int], lang: str | None,
           model: answerability.AnswerModel) -> bool:
    """Whether words the index lacks carry the question away from the best article (kb/search/novelty.py).

    Only where the best article is written in the question's language: a Chinese question about a page that
    exists in English alone uses Chinese words no page has ("windows 清除DNS缓存"), and is answered."""
    if ev.bare is None or model.novel_share is None or ev.qvecs is None:
        return False
    same = [v for v in best if gen.articles[v].lang == lang]
    if not same:
        return False
    article = np.vstack([gen.sections(v)[2] for v in same])
    return novelty.carries(ev.qvecs[0], ev.bare[0], article, model.novel_share)


def respond(query: str, req: SearchRequest, q: Understood, ranked: Ranked, results: list[Result], verdict: Verdict,
            timings: dict, degraded: frozenset[str]) -> Response:
    """Phase 6: the response as callers get it."""
    answered = verdict.answered
    return Response(query=query, detected=q.detected, lang=q.want, results=tuple(results), total=len(ranked.listed(answered)),
                    mode=req.mode, timings=dict(timings), answered=answered, degraded=tuple(sorted(degraded)),
                    missing=verdict.missing)


def nothing(query: str, req: SearchRequest) -> Response:
    """The answer to a query of invisible characters only (control or format characters): no words, no results."""
    return Response(query=query, detected=languages.Detection(None, 0.0, "no printable characters"), lang=req.lang,
                    results=(), total=0, mode=req.mode, answered=False)
