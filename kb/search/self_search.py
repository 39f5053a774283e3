"""A knowledge base's own questions searched, and judged with their article present, left out, or only in
other languages.

Each question (kb/search/self_questions.py) is searched once; what both sides
found is kept as a record, the same shape as bench/evidence.py's dumps of
real queries, so one function (`outcome`) judges both. Leaving an article out
is done on the record, not by re-indexing without it: its versions are taken
out of the candidates and its words out of the words the index knows. What
this leaves as it was (the keyword statistics and the language centres,
which count the article) moves a score by a few thousandths on the dev sets'
knowledge bases of 70 articles and more.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np

from kb.search import answerability, calibration, retrieve, self_questions
from kb.search.query_text import prose
from kb.search.request import SearchRequest
from kb.text import languages

RAW_KEPT = 2 * answerability.RAW_CANDIDATES  # cosines kept: the ten best once an article is left out
BATCH = 64


def observe(gen, embed, questions) -> list[dict]:
    """One record per question (kb.search.self_questions.Question), from the public index of `gen`; `embed`
    turns query texts into a matrix of vectors (the indexer's persists them: CachedEmbedder.embed_stored_queries)."""
    req = SearchRequest().checked()
    texts = [prose(q.text) for q in questions]
    out = []
    for start in range(0, len(questions), BATCH):
        vecs = embed(texts[start:start + BATCH])
        for q, qv in zip(questions[start:start + BATCH], vecs):
            out.append(_record(gen, req, q, np.asarray(qv)[None, :]))
    return out


def _record(gen, req: SearchRequest, q, qvecs: np.ndarray) -> dict:
    det = languages.detect(prose(q.text), gen.languages(True), gen.main_lang)
    side = retrieve.keyword_side(gen, req, q.text, det.lang)
    ev = retrieve.collect(gen, req, qvecs, side, det.lang)
    top = sorted(ev.dense, key=ev.dense.get, reverse=True)[:RAW_KEPT]
    raw = {a: float((qvecs @ gen.chunk_vector(a, ev.best_chunk[a])).max()) for a in top}
    cands = [[gen.articles[a].id, gen.articles[a].lang, ev.dense.get(a), ev.keyword.scores.get(a), raw.get(a)]
             for a in sorted(set(ev.dense) | set(ev.keyword.scores))]
    return {"text": q.text, "kind": q.kind, "group": q.group, "lang": q.lang, "det": det.lang,
            "coverage": ev.keyword.coverage, "n_tokens": ev.keyword.n_tokens, "ticket": ev.keyword.ticket,
            "known": side.known, "known_without": _known_without(gen, side.tokens, q), "cands": cands}


def _known_without(gen, tokens: list[str], q) -> dict[str, float]:
    """The share of the query's tokens the index would still know without the question's article
    ("group"), and without the version the question was made from ("version")."""
    if not tokens:
        return {"group": 0.0, "version": 0.0}
    store = gen.keywords(True)
    df = store.term_counts(tokens)
    in_group: dict[str, int] = {}
    in_version: dict[str, int] = {}
    for v in gen.visible(q.group, "public"):
        for c in gen.store.chunks_of(v.rowid):
            for t in set(store.chunk_tokens(c.rowid)) & set(tokens):
                in_group[t] = in_group.get(t, 0) + 1
                if v.lang == q.lang:
                    in_version[t] = in_version.get(t, 0) + 1
    return {"group": sum(df.get(t, 0) > in_group.get(t, 0) for t in tokens) / len(tokens),
            "version": sum(df.get(t, 0) > in_version.get(t, 0) for t in tokens) / len(tokens)}


def calibrate(gen, embed, model: answerability.AnswerModel = answerability.DEFAULT) -> calibration.Calibration:
    """Ask the generation its own questions and fit this knowledge base's settings from the answers."""
    t = time.perf_counter()
    groups = sorted({a.id for a in gen.articles.values() if a.is_public})
    if not any(model.weights):
        return calibration.prior(len(groups), 0, 0.0, "rule")
    if len(groups) < calibration.MIN_GROUPS:
        return calibration.prior(len(groups), 0, time.perf_counter() - t)
    questions = self_questions.make(gen)
    records = observe(gen, embed, questions)
    cal = calibration.fit(records, gen.languages(True), len(groups), model)
    return calibration.Calibration(**{**asdict(cal), "seconds": round(time.perf_counter() - t, 2)})
