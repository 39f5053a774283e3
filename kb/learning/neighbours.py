"""Paraphrases: a query learns from the evidence of logged queries whose embeddings are near it.

"Near" is read off the log itself: the threshold is a high quantile (98% by
default) of the cosine similarities between the logged queries, so it adapts
to the model and the knowledge base (e5 puts unrelated English questions at
0.75, a FAQ's paraphrases above 0.9) instead of being a constant fitted on
one dataset. e5 is multilingual, so a Russian query borrows from its English
paraphrases as it would from English ones. Of those neighbours, a query keeps
the ones asking its question (`questions`), and pools their evidence, each
weighted by how near it is, into one signal per article.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb.learning import caps, questions
from kb.learning import model as model_mod
from kb.learning.model import Model

QUANTILE = 0.98
MAX_NEIGHBOURS = 20
SAMPLE = 2000  # logged queries the quantile is read from: 2M pairs at most
EXACT = 1.0 - 1e-4  # a cosine this close to 1 is the same query (float32 rounding)
_NONE = model_mod.Evidence()  # an article a paraphrase has no evidence on


@dataclass(frozen=True)
class Borrowed:
    """What a query learned for one article: the weighted signal, and the readers behind its direction."""

    value: float
    lifting: frozenset[str]
    sinking: frozenset[str]
    robust: float = 0.0  # `value` without its strongest MIN_ORIGINS - 1 readers' shares (kb/learning/caps.py)
    nearness: dict[str, float] | None = None  # reader -> the weight of the nearest paraphrase they acted on

    @property
    def support(self) -> float:
        """Readers on the side the signal points to, each counted at the nearness of the paraphrase they acted
        on (an exact repeat 1): only they count towards the caps' MIN_ORIGINS. A reader of a far paraphrase is
        less of a reader of this query, as their evidence weighs less in it."""
        side = self.lifting if self.value > 0 else self.sinking
        if self.nearness is None:
            return float(len(side))
        return sum(self.nearness.get(r, 0.0) for r in side)


def threshold(vectors: np.ndarray, quantile: float = QUANTILE, seed: int = 0) -> float:
    """The cosine above which two logged queries count as paraphrases; exact repeats only with fewer than 3."""
    n = len(vectors)
    if n < 3:
        return EXACT
    if n > SAMPLE:
        vectors = vectors[np.random.default_rng(seed).choice(n, SAMPLE, replace=False)]
    sims = vectors @ vectors.T
    pairs = sims[np.triu_indices(len(vectors), k=1)]
    return float(min(np.quantile(pairs, quantile), EXACT))


def without_strongest(value: float, parts: dict[str, float], few: int = caps.MIN_ORIGINS - 1) -> float:
    """`value` with the `few` readers who pushed it hardest in its direction taken out, not past 0: a move of
    the first three must hold without any few readers (five sessions' votes ride on the genuine readers of a
    paraphrase otherwise: bench/results/learning.md)."""
    sign = 1.0 if value > 0 else -1.0
    strongest = sorted((sign * p for p in parts.values() if sign * p > 0), reverse=True)[:few]
    return sign * max(0.0, sign * value - sum(strongest))


class Neighbourhood:
    """A model's logged queries, embedded, and the threshold between them."""

    def __init__(self, model: Model, vectors: np.ndarray, quantile: float = QUANTILE):
        """`vectors`: one unit row per `model.queries`, in that order."""
        self.model = model
        self.keys = model.queries
        self.vectors = np.asarray(vectors, dtype=np.float32)
        if len(self.vectors) != len(self.keys):
            raise ValueError(f"{len(self.vectors)} query vectors for {len(self.keys)} logged queries")
        self.tau = threshold(self.vectors, quantile)
        self.row = {key: i for i, key in enumerate(self.keys)}
        self.endorsed = questions.endorsed(model)

    def near(self, qvec: np.ndarray) -> list[tuple[str, float]]:
        """(logged query, weight 0..1] of the query's paraphrases, the nearest first; an exact repeat weighs 1."""
        if not self.keys or qvec is None:
            return []
        sims = self.vectors @ np.asarray(qvec, dtype=np.float32).reshape(-1)
        order = np.argsort(-sims)[:MAX_NEIGHBOURS]
        span = max(1e-6, 1.0 - self.tau)
        return [(self.keys[i], float(min(1.0, (sims[i] - self.tau) / span))) for i in order if sims[i] > self.tau]

    def borrowed(self, qvec: np.ndarray, article_ids) -> dict[str, Borrowed]:
        """Per article: the signal of the query's question, pooled from its paraphrases' evidence, each counted
        at its nearness (the nearest in full), and the readers behind it, for and against. The paraphrases are
        the neighbours asking the question weighing most among them (kb/learning/questions.py): a neighbour
        asking another question neither dilutes the answer's readers nor lends its own answers. A paraphrase
        nobody clicked or voted on at all says nothing and is left out."""
        near = [(key, w) for key, w in self.near(qvec) if key in self.model.evidence]
        if not near:
            return {}
        keys = [k for k, _ in near]
        rows = [self.row[k] for k in keys]
        sims = self.vectors[rows] @ self.vectors[rows].T
        ends = [self.endorsed.get(k, frozenset()) for k in keys]
        signals, pool = self._pooled(near, questions.group(ends, sims, self.tau))
        out = {}
        for aid in article_ids:
            s = signals.get(aid)
            if s is None:
                continue
            nearness: dict[str, float] = {}
            for key, w in pool:
                for reader in self.model.evidence[key].get(aid, _NONE).readers:
                    nearness[reader] = max(w, nearness.get(reader, 0.0))
            robust = without_strongest(s.value, s.parts)
            if robust > 0:  # and without the links only a few of its readers make (kb/learning/questions.py)
                for few in questions.forgers(self.model.evidence, keys, ends, aid, s.parts):
                    fewer = questions.without(self.model.evidence, keys, ends, few)
                    if fewer != ends:
                        other = self._pooled(near, questions.group(fewer, sims, self.tau))[0].get(aid)
                        robust = min(robust, 0.0 if other is None else max(
                            0.0, without_strongest(other.value, other.parts)))
            out[aid] = Borrowed(s.value, s.lifting, s.sinking, robust, nearness)
        return out

    def _pooled(self, near: list[tuple[str, float]], labels: list[int]):
        """(signals pooled from the neighbours asking the question weighing most, those neighbours with their
        weights relative to the nearest of them)."""
        best = questions.asked([w for _, w in near], labels)
        asking = [(key, w) for (key, w), q in zip(near, labels) if q == best]
        top = max(w for _, w in asking) or 1.0
        asking = [(key, w / top) for key, w in asking]
        return model_mod.signals(model_mod.pooled((self.model.evidence[key], w) for key, w in asking)), asking
