"""What learning may change in a ranking, whatever the log says.

- a score step of at most MAX_BOOST (0.8 of fusion's scale, where the first
  result is about 1 and one a whole cosine `scale` worse is 0), scaled down
  while few readers stand behind it;
- a lift of at most MAX_LIFT ranks;
- the first three change only on evidence from MIN_ORIGINS distinct readers
  (each counted at the nearness of the paraphrase they searched), and only as
  far as the signal reaches without its strongest MIN_ORIGINS - 1 readers, nor
  without the links between questions a few readers alone make (`robust`,
  kb/learning/neighbours.py and questions.py): a signal from fewer readers reorders the results below
  them, never the first three nor across. So 1,000 votes from one address, or
  from a handful of sessions, can neither lift a wrong article into the first
  three (or up within them) nor push the right ones out, even when genuine
  readers of a paraphrase clicked it too. The limit of the rule: a stuffer is
  one more reader, so where ten or more genuine readers already back an
  article, just too few to lift it, m stuffers tip it as m more genuine
  readers would (tests/test_learning.py); repeating themselves adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MAX_BOOST = 0.8
MAX_LIFT = 10
MIN_ORIGINS = 10
TOP = 3
ORIGIN_HALF = 3.0  # readers at which a signal counts half: confidence = n / (n + ORIGIN_HALF)


@dataclass(frozen=True)
class Moved:
    """One result after learning: its fused score, the boost feedback gave it (in the first three, the part that
    holds without the strongest few readers), its rank before (0 first)."""

    article_id: str
    score: float
    boost: float
    before: int


def boost(value: float, origins: int) -> float:
    return MAX_BOOST * max(-1.0, min(1.0, value)) * origins / (origins + ORIGIN_HALF)


def rerank(ranked: list[tuple[str, float]], learned: dict[str, tuple[float, int, float]]) -> list[Moved]:
    """`ranked`: (article id, fused score) best first; `learned`: article id -> (signal -1..1, distinct readers
    on its side, the signal without its strongest few readers). The ranking with the bounded boosts applied,
    best first."""
    items = [Moved(aid, s, boost(*learned[aid][:2]) if aid in learned else 0.0, i) for i, (aid, s) in enumerate(ranked)]
    robust = {aid: boost(r, n) for aid, (_, n, r) in learned.items() if n >= MIN_ORIGINS}
    # first what holds without any few readers, across the whole list; then every boost, below the first three
    only_trusted = lambda m: robust.get(m.article_id, 0.0)  # noqa: E731
    order = _place(items, only_trusted)
    first = [replace(m, boost=only_trusted(m)) for m in order[:TOP]]  # the boost that placed them, for --explain
    return first + _place(order[TOP:], lambda m: m.boost, offset=TOP)


def _place(items: list[Moved], step, offset: int = 0) -> list[Moved]:
    """`items` re-sorted by score plus `step`, none placed more than MAX_LIFT ranks above its rank before
    learning (`before`); `offset`: the rank the band starts at."""
    left = sorted(items, key=lambda m: (-(m.score + step(m)), m.before))
    out = []
    for pos in range(offset, offset + len(items)):
        pick = next((m for m in left if m.before - MAX_LIFT <= pos), None) or min(left, key=lambda m: m.before)
        left.remove(pick)
        out.append(pick)
    return out
