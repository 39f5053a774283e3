"""Questions: which of a query's neighbours ask its question, read off what their readers found.

Embedding similarity alone puts a FAQ's neighbouring questions among a
query's paraphrases (StackFAQ: of a never-logged query's ~10 neighbours above
the threshold, ~6 ask another question), and their readers' clicks dilute and
misdirect what the query learns. Two of a query's neighbours ask one question
when they are near each other too (above the paraphrase threshold) and at
least half of the articles one's readers endorse (positive signal), counted on
the side endorsing fewer, the other's readers endorse too; a question is a
connected group of such links among the neighbours, and the query asks the
question weighing most among them (kb/learning/neighbours.py).

A link is made by readers, so a few readers can make one: five sessions voting
a neighbouring question's answer on one paraphrase link the two questions, and
the neighbouring question's readers would lift that answer for every
paraphrase of the first. So what moves the first three must hold without its
strongest readers *and the links only they make* (`without`): the caps' rule
(kb/learning/caps.py) applied to the grouping as well as to the signal.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kb.learning import caps
from kb.learning.model import Model


def endorsed(model: Model) -> dict[str, frozenset[str]]:
    """Logged query -> the articles its readers lifted."""
    return {key: frozenset(aid for aid, s in arts.items() if s.value > 0) for key, arts in model.signals.items()}


def agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two queries' readers endorse mostly the same articles: half of the smaller set at least."""
    return bool(a) and bool(b) and 2 * len(a & b) >= min(len(a), len(b))


def group(ends: list[frozenset[str]], sims: np.ndarray, tau: float) -> list[int]:
    """A question label per neighbour: `ends[i]` the articles neighbour i's readers endorse, `sims` the
    neighbours' cosine similarities to each other."""
    parent = list(range(len(ends)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(ends)):
        for j in range(i + 1, len(ends)):
            if sims[i, j] > tau and agree(ends[i], ends[j]):
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(ends))]


def asked(weights: list[float], labels: list[int]) -> int:
    """The question weighing most among the neighbours (nearest first; a tie goes to the nearest's)."""
    total: dict[int, float] = {}
    for w, q in zip(weights, labels):
        total[q] = total.get(q, 0.0) + w
    return max(total, key=lambda q: (total[q], q == labels[0]))


def forgers(evidence: Mapping[str, Mapping], keys: list[str], ends: list[frozenset[str]], aid: str,
            parts: Mapping[str, float], few: int = caps.MIN_ORIGINS - 1) -> list[frozenset[str]]:
    """Sets of at most `few` readers who could have made the links that lift `aid`: its strongest `few`
    readers; at every neighbour where `few` or fewer readers lifted it, those readers; and all of those
    together when they are `few` or fewer (a handful of sessions split over several paraphrases)."""
    out = {frozenset(sorted(parts, key=parts.get, reverse=True)[:few])}
    each = [frozenset(evidence[key][aid].lifting) for key, e in zip(keys, ends)
            if aid in e and len(evidence[key][aid].lifting) <= few]
    out.update(each)
    if each and len(frozenset().union(*each)) <= few:
        out.add(frozenset().union(*each))
    return sorted(out, key=sorted)


def without(evidence: Mapping[str, Mapping], keys: list[str], ends: list[frozenset[str]],
            readers: frozenset[str]) -> list[frozenset[str]]:
    """The endorsements with `readers` gone: a neighbour no longer endorses an article only they lifted."""
    return [frozenset(a for a in e if not evidence[k][a].lifting <= readers) for k, e in zip(keys, ends)]
