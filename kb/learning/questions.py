"""Questions: logged queries whose readers found the same answers, so a paraphrase learns from its own question.

Embedding similarity alone puts a FAQ's neighbouring questions among a
query's paraphrases (StackFAQ: of a never-logged query's ~10 neighbours above
the threshold, ~6 ask another question), and their readers' clicks dilute and
misdirect what the query borrows. Two logged queries are one question when
they are neighbours (above the paraphrase threshold, one among the other's
MAX_NEIGHBOURS nearest) and at least half of the articles one's readers
endorse (positive signal), counted on the side endorsing fewer, the other's
readers endorse too; a question is a connected group of such links.

The grouping only ever *drops* neighbours of a query (kb/learning/neighbours.py
keeps those of the question weighing most among them): a query's evidence is
never carried to a query it is not itself near, so a stuffed query that links
two questions cannot hand one question's readers to the other's paraphrases.
"""

from __future__ import annotations

import numpy as np

from kb.learning.model import Model

MAX_NEIGHBOURS = 20
CHUNK = 1024  # rows of the similarity matrix held at once: 1024 x n floats


def endorsed(model: Model) -> dict[str, frozenset[str]]:
    """Logged query -> the articles its readers lifted."""
    return {key: frozenset(aid for aid, s in arts.items() if s.value > 0) for key, arts in model.signals.items()}


def agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two queries' readers endorse mostly the same articles: half of the smaller set at least."""
    return bool(a) and bool(b) and 2 * len(a & b) >= min(len(a), len(b))


def group(model: Model, keys: list[str], vectors: np.ndarray, tau: float) -> list[int]:
    """A question label per key (`keys` and `vectors` aligned, unit rows); a key without endorsements is a
    question of its own."""
    ends = endorsed(model)
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    active = np.array([bool(ends.get(k)) for k in keys], dtype=bool)
    for start in range(0, len(keys), CHUNK):
        sims = vectors[start:start + CHUNK] @ vectors.T
        sims[:, ~active] = -np.inf
        for row, i in enumerate(range(start, min(start + CHUNK, len(keys)))):
            if not active[i]:
                continue
            near = np.argpartition(-sims[row], min(MAX_NEIGHBOURS, len(keys) - 1))[:MAX_NEIGHBOURS + 1]
            for j in near:
                if j != i and sims[row, j] > tau and agree(ends[keys[i]], ends[keys[j]]):
                    parent[find(i)] = find(int(j))
    return [find(i) for i in range(len(keys))]
