"""The Searcher: what outlives one search (the served generation, the embedder, caches), and the phases in order.

A search runs kb/search/pipeline.py's phases: understand → retrieve → fuse →
judge → fetch → respond. The generation comes from kb/search/watcher.py,
articles by id from kb/search/lookup.py, repeated searches from
kb/search/cache.py.
"""

from __future__ import annotations

from pathlib import Path

from kb.embeddings import CachedEmbedder, get_embedder
from kb.search import answerability, lookup, pipeline
from kb.search import fusion as fusion_mod
from kb.search.budget import Budget
from kb.search.cache import RESPONSES, ResponseCache
from kb.search.generation import Generation
from kb.search.request import SearchRequest, checked_query
from kb.search.results import Response, Result
from kb.search.watcher import GenerationWatcher
from kb.index.store import ArticleRow, Store

__all__ = ["Searcher", "SearchRequest", "Response", "Result"]


class Searcher:
    """Searches the served generation of an index folder; picks up new generations by itself."""

    def __init__(self, index_dir: Path, model: str | None = None, fusion=None, recheck_seconds: float = 1.0,
                 min_answer_score: float | None = None, budget: Budget | None = None,
                 embedder: CachedEmbedder | None = None, response_cache: int = RESPONSES, correct_typos: bool = True,
                 calibrated: bool = True, learner=None):
        """`embedder`: share one (and its query cache) between searchers; `response_cache`: responses kept (0: none);
        `fusion` and `min_answer_score`: None takes the knowledge base's own (calibrated at index time), else the
        dev-fitted defaults; `calibrated`: False takes the defaults always (`kb eval` compares); `correct_typos`:
        False for benchmarks; `learner`: what readers taught (kb/learning's Learner, or anything with its `rerank`
        and `version`), None: no learning (the learning setting off)."""
        self.embedder = embedder or CachedEmbedder(get_embedder(model))
        self.fusion = fusion
        self.min_answer_score = min_answer_score
        self.calibrated = calibrated
        self.learner = learner
        self.budget = budget or Budget()
        self.responses = ResponseCache(response_cache)
        described = self.embedder.name if model else "the default model"
        self._watcher = GenerationWatcher(index_dir, self.embedder.name, described, recheck_seconds)
        self.answer_model = answerability.model_for(self.embedder.name)
        self._retriever = pipeline.Retriever(self.embedder, self.budget, correct_typos)
        self.generation()  # fail at start, not on the first visitor, if the index is missing or corrupt

    @property
    def index_dir(self) -> Path:
        return self._watcher.index_dir

    def generation(self) -> Generation:
        return self._watcher.current()

    def notice_new_generation(self):
        """For a publisher in this process (the editor's background index), so "searchable since" is true at once."""
        self._watcher.notice_new_generation()

    def learning_inputs(self) -> tuple[dict[str, str], set[str]]:
        """(article id -> a hash of all its versions' content, public article ids) of the served generation:
        what kb/learning needs to reset a changed article and to keep public traffic off internal ones."""
        gen = self.generation()
        hashes = {aid: "|".join(sorted(v.content_hash for v in versions)) for aid, versions in gen.groups.items()}
        return hashes, {aid for aid, versions in gen.groups.items() if any(v.is_public for v in versions)}

    @property
    def store(self) -> Store:
        return self.generation().store

    def languages(self, audience: str = "public") -> set[str]:
        return set(self.generation().languages(audience == "public"))

    def versions(self, article_id: str, audience: str = "public") -> list[ArticleRow]:
        return lookup.versions(self.generation(), article_id, audience)

    def article(self, article_id: str, lang: str | None, audience: str = "public") -> tuple[ArticleRow, str] | None:
        return lookup.article(self.generation(), article_id, lang, audience)

    def related(self, article_id: str, lang: str | None, audience: str = "public", k: int = 5) -> list[Result]:
        return lookup.related(self.generation(), article_id, lang, audience, k)

    def settings(self, gen: Generation) -> tuple[object, float | answerability.Cut | None]:
        """(fusion, answered cut-off) for a generation: what the caller set wins (the constructor's `fusion`,
        KB_MIN_ANSWER_SCORE), then what the knowledge base chose on its own questions at index time
        (kb/search/calibration.py), then the dev-fitted defaults (None: the answer model's own threshold)."""
        cal = gen.calibration if self.calibrated else None
        fuse = self.fusion or (cal.fusion() if cal is not None else fusion_mod.DEFAULT)
        threshold = self.min_answer_score
        if threshold is None and cal is not None and self.answer_model is answerability.DEFAULT:
            threshold = cal.cut()
        return fuse, threshold

    def search(self, query: str, **request) -> Response:
        """One query; keyword arguments are SearchRequest's fields (audience, lang, ui_lang, product, tags,
        mode, k, offset)."""
        return self.search_many([query], **request)[0]

    def search_many(self, queries: list[str], **request) -> list[Response]:
        """Several queries; their embeddings are computed in one batch, repeats come from the response cache."""
        queries = [checked_query(q) for q in queries]
        req = SearchRequest(**request).checked()
        gen = self.generation()
        learned = getattr(self.learner, "version", None)  # a refit model must not serve responses of the last one
        keys = [self.responses.key(q, gen.name, *self.settings(gen), self.answer_model, req, learned) for q in queries]
        out = [self.responses.get(key) if q else pipeline.nothing(q, req) for q, key in zip(queries, keys)]
        todo = [i for i, r in enumerate(out) if r is None]
        if todo:
            for i, resp in zip(todo, self._run(gen, req, [queries[i] for i in todo])):
                out[i] = resp
                self.responses.put(keys[i], resp)
        return out

    def evidence(self, queries: list[str], **request) -> list[tuple]:
        """(Evidence, Detection) per query, before fusion: what both retrieval sides found (benchmarks fit on it)."""
        req = SearchRequest(**request).checked()
        gen = self.generation()
        understood = [pipeline.understand(gen, req, checked_query(q), {}) for q in queries]
        found = self._retriever.retrieve(gen, req, understood, self.budget, [{} for _ in queries])
        return [(ev, q.detected) for (ev, _), q in zip(found, understood)]

    def _run(self, gen: Generation, req: SearchRequest, queries: list[str]) -> list[Response]:
        timings = [{} for _ in queries]
        fusion, threshold = self.settings(gen)
        understood = [pipeline.understand(gen, req, q, t) for q, t in zip(queries, timings)]
        out = []
        for query, q, t, (ev, degraded) in zip(queries, understood, timings,
                                               self._retriever.retrieve(gen, req, understood, self.budget, timings)):
            ranked = pipeline.learn(req, ev, pipeline.fuse(gen, req, ev, fusion, degraded, t), self.learner, t)
            verdict = pipeline.judge(gen, req, q, ev, ranked, self.answer_model, threshold, t)
            results, cut = pipeline.fetch(gen, req, q, ev, ranked, verdict.answered, self.budget.render_seconds, t)
            out.append(pipeline.respond(query, req, q, ranked, results, verdict, t, degraded | cut))
        return out

