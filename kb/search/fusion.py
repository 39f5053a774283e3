"""Fusing dense and keyword scores into one ranking.

Plain reciprocal rank fusion loses to dense retrieval alone where the query
and the answer share few words (paraphrased FAQs) and across languages (see
../shared/bench/README.md: stackfaq 0.850 vs 0.875, xquad-cross-en 0.773 vs
0.862). So the keyword side is weighted by how much it can know for *this*
query: `coverage`, the share of the query's information (IDF mass) that the
best keyword hit actually contains. A cross-lingual query shares almost no
tokens with the articles and gets almost no keyword weight; a query that
quotes an error code or a product term the article also has gets a lot.

The default (`DEFAULT`, a ConvexFusion) was chosen in bench/fusion_fit.py by
its worst margin over dense retrieval across the dev sets, each also indexed
FAQ-sized (70 documents), and holds when each set is left out of the choice
(bench/results/fusion.md). What the previous default got wrong, and this one
does not:
- dense scores min-max normalised over the candidates stretch differently
  over a 70-document FAQ than over 100 chunks of a large corpus: here they are
  measured as distance from the best in cosine units (`scale`);
- a keyword floor for every query of 16+ tokens hit long FAQ questions; it is
  now for pasted tickets only (several lines or logs: kb/query_text.is_ticket);
- an article that exists only in another language lost to weaker matches in
  the reader's language, its keyword misses counted against it
  (xquad-cross-any with half the groups missing the query's language: 0.694
  vs dense 0.891; now 0.902).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class KeywordEvidence:
    """What the keyword side found, to decide how far to trust it."""

    scores: dict[int, float]  # article version rowid -> bm25 (higher is better)
    coverage: float  # 0..1, IDF mass of query tokens present in the best keyword hit
    n_tokens: int = 0  # distinct keyword tokens in the query
    ticket: bool = False  # a pasted message (several lines, or logs), not a typed question: codes matter
    # versions of articles that have no version in the query's language: a keyword miss there is no
    # evidence against them (a Chinese query's words cannot occur in a Russian-only article)
    foreign: frozenset = frozenset()


@dataclass(frozen=True)
class AdaptiveFusion:
    """The previous default, kept as the benchmarks' baseline ("current" in bench/results/fusion.md).

    final = (1 - w) · dense_norm + w · keyword_norm, with w = max_weight · coverage^power.

    Long texts (pasted tickets) always hold many words no article has, so
    coverage says little about them; from `long_query_tokens` tokens on, the
    keyword side gets at least `long_weight` (measured on ticket-sized queries
    in bench/tickets.py, where keyword retrieval beats dense).
    """

    max_weight: float = 0.6
    power: float = 1.0
    long_query_tokens: int = 16
    long_weight: float = 0.6

    def weight(self, evidence: KeywordEvidence) -> float:
        if not evidence.scores:
            return 0.0
        w = self.max_weight * (max(0.0, min(1.0, evidence.coverage)) ** self.power)
        if evidence.n_tokens >= self.long_query_tokens:
            w = max(w, self.long_weight)
        return w

    def combine(self, dense: dict[int, float], keyword: KeywordEvidence) -> dict[int, float]:
        w = self.weight(keyword)
        dn = _minmax(dense)
        top = max(keyword.scores.values(), default=0.0)
        kn = {k: (v / top if top > 0 else 0.0) for k, v in keyword.scores.items()}
        keys = set(dn) | set(kn)
        # a document only the keyword side found gets the dense floor (0), not a pass
        return {k: (1 - w) * dn.get(k, 0.0) + w * kn.get(k, 0.0) for k in keys}


@dataclass(frozen=True)
class ConvexFusion:
    """final = (1 - w) · dense_norm + w · keyword_norm.

    dense_norm is either min-max over the candidates (`scale=None`), or the
    distance from the best candidate in cosine units, `1 - (best - d) / scale`
    floored at 0: the same whatever the size of the knowledge base, where
    min-max stretches differently over 67 documents than over 100 of 100k.
    keyword_norm is bm25 over the best bm25. w is `weight`, or with
    `adaptive` `weight · coverage^power`.
    """

    weight: float = 0.2
    scale: float | None = 0.1
    power: float = 1.0
    adaptive: bool = False
    ticket_weight: float | None = None  # the least weight for a pasted ticket (KeywordEvidence.ticket)
    foreign_neutral: bool = False  # a version in another language that keywords missed keeps its dense score

    def weight_for(self, evidence: KeywordEvidence) -> float:
        if not evidence.scores:
            return 0.0
        w = self.weight
        if self.adaptive:
            w = self.weight * (max(0.0, min(1.0, evidence.coverage)) ** self.power)
        if evidence.ticket and self.ticket_weight is not None:
            w = max(w, self.ticket_weight)
        return w

    def combine(self, dense: dict[int, float], keyword: KeywordEvidence) -> dict[int, float]:
        w = self.weight_for(keyword)
        if self.scale is None:
            dn = _minmax(dense)
        else:
            best = max(dense.values(), default=0.0)
            dn = {k: max(0.0, 1.0 - (best - v) / self.scale) for k, v in dense.items()}
        top = max(keyword.scores.values(), default=0.0)
        kn = {k: (v / top if top > 0 else 0.0) for k, v in keyword.scores.items()}
        if self.foreign_neutral:  # keywords may lift such an article, never sink it below its dense score
            for k in keyword.foreign:
                if k in dn:
                    kn[k] = max(kn.get(k, 0.0), dn[k])
        return {k: (1 - w) * dn.get(k, 0.0) + w * kn.get(k, 0.0) for k in set(dn) | set(kn)}


@dataclass(frozen=True)
class RRF:
    """Reciprocal rank fusion, kept as a baseline for the benchmarks."""

    k: int = 60

    def combine(self, dense: dict[int, float], keyword: KeywordEvidence) -> dict[int, float]:
        out: dict[int, float] = {}
        for scores in (dense, keyword.scores):
            for rank, key in enumerate(sorted(scores, key=scores.get, reverse=True)):
                out[key] = out.get(key, 0.0) + 1.0 / (self.k + rank + 1)
        return out


def _minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    hi, lo = max(scores.values()), min(scores.values())
    if hi - lo < 1e-9:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def idf(df: int, n: int) -> float:
    """BM25's idf, floored at a small positive value so very common tokens still count a little."""
    return max(0.05, math.log(1 + (n - df + 0.5) / (df + 0.5)))


# What the Searcher uses unless told otherwise (chosen in bench/fusion_fit.py; see bench/results/fusion.md).
DEFAULT = ConvexFusion(weight=0.4, scale=0.05, ticket_weight=0.6, foreign_neutral=True)
