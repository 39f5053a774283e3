"""A position-based click model (PBM) over the log: per logged query, how much better each article did than
its position explains.

Under the PBM a reader examines rank k with probability θ_k (here 1/k, the
usual prior when the log holds no randomised swaps to estimate it) and clicks
an examined article with the probability it is relevant. An article's clicks
are compared with its expected examinations, Σθ over its impressions: clicks
at rank 8 weigh eight times a click at rank 1 (inverse propensity), and the
query's own click rate (all clicks over all examinations) is the baseline, so
the signal is self-normalised per query: busy queries do not outweigh quiet
ones. Votes and agents' marks are not position-biased (the reader already
opened the article) and add a second term. Everything decays with a 30-day
half-life, and an article's evidence starts over when its content changes
(`since`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kb.learning.events import NEGATIVE, POSITIVE, Event, Impression, once_per_reader, query_key

HALF_LIFE_DAYS = 30.0
CLICK_PRIOR = 2.0  # pseudo-examinations: a few clicks on a rarely shown article are not yet a rate
VOTE_PRIOR = 2.0  # pseudo-votes at zero: one vote is a hint, not a verdict


def theta(rank: int) -> float:
    """The chance a reader examines rank `rank` (1 first)."""
    return 1.0 / max(1, rank)


def decay(age_seconds: float, half_life_days: float = HALF_LIFE_DAYS) -> float:
    return 0.5 ** (max(0.0, age_seconds) / (half_life_days * 86_400.0))


@dataclass
class Evidence:
    """One (query, article): decayed clicks, expected examinations, votes for and against, who gave them
    (readers for and readers against apart: an attacker's votes must not borrow the count of the readers
    who bounced off the same article)."""

    clicks: float = 0.0
    examined: float = 0.0
    good: float = 0.0
    bad: float = 0.0
    lifting: set[str] = field(default_factory=set)
    sinking: set[str] = field(default_factory=set)
    readers: dict[str, list[float]] = field(default_factory=dict)  # origin -> [clicks, good, bad]

    def add(self, origin: str, kind: str, w: float):
        mine = self.readers.setdefault(origin, [0.0, 0.0, 0.0])
        if kind == "click":
            self.clicks += w
            mine[0] += w
        elif kind in POSITIVE:
            self.good += POSITIVE[kind] * w
            mine[1] += POSITIVE[kind] * w
        else:
            self.bad += NEGATIVE[kind] * w
            mine[2] += NEGATIVE[kind] * w
        (self.lifting if kind in POSITIVE else self.sinking).add(origin)

    def signal(self, base_rate: float) -> float:
        """-1..1: clicks above the query's rate for the examinations it got, plus the votes' balance."""
        click = (self.clicks - base_rate * self.examined) / (self.examined + CLICK_PRIOR)
        vote = (self.good - self.bad) / (self.good + self.bad + VOTE_PRIOR)
        return max(-1.0, min(1.0, click + vote))

    def parts(self, base_rate: float) -> dict[str, float]:
        """Each reader's share of the signal (their clicks' and votes' terms, scaled down with it where it is
        clipped at ±1): what the caps take out to see whether a result's move holds without its strongest
        few readers."""
        click_den, vote_den = self.examined + CLICK_PRIOR, self.good + self.bad + VOTE_PRIOR
        parts = {r: c / click_den + (g - b) / vote_den for r, (c, g, b) in self.readers.items()}
        expected = -base_rate * self.examined / click_den  # the part no reader owns: the clicks position explains
        raw = expected + sum(parts.values())
        value = self.signal(base_rate)
        if raw != value and raw != expected:
            scale = (value - expected) / (raw - expected)
            parts = {r: p * scale for r, p in parts.items()}
        return parts


@dataclass(frozen=True)
class Signal:
    value: float  # -1..1
    lifting: frozenset[str]  # distinct readers who clicked, voted helpful or solved with it
    sinking: frozenset[str]  # distinct readers who bounced, voted unhelpful or marked it not relevant
    parts: dict[str, float] = field(default_factory=dict)  # reader -> their share of `value`


@dataclass
class Model:
    """Signals per logged query (its key) and article, for one audience, and the evidence behind them: a
    paraphrase pools the evidence of the logged queries near it (kb/learning/neighbours.py)."""

    signals: dict[str, dict[str, Signal]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # key -> a text of it, to embed
    evidence: dict[str, dict[str, Evidence]] = field(default_factory=dict)  # of the queries with signals

    @property
    def queries(self) -> list[str]:
        """Every logged query, with feedback or without: the paraphrase threshold reads all of them."""
        return sorted(self.texts)


def build(impressions: Iterable[Impression], events: Iterable[Event], audience: str, now: float,
          since: Mapping[str, float] | None = None, allowed=None, half_life_days: float = HALF_LIFE_DAYS) -> Model:
    """The model of one audience from the log as of `now`.

    `since`: article id -> when its content last changed (older evidence is ignored); `allowed(article_id)`:
    whether this audience may learn about the article at all (public traffic never about internal articles).
    """
    since = since or {}
    keep = lambda aid, ts: (allowed is None or allowed(aid)) and ts >= since.get(aid, -math.inf)  # noqa: E731
    table: dict[str, dict[str, Evidence]] = {}
    texts: dict[str, str] = {}
    for imp in impressions:
        if imp.audience == audience and keep(imp.article_id, imp.ts):
            key = query_key(imp.query)
            texts.setdefault(key, imp.query)
            ev = table.setdefault(key, {}).setdefault(imp.article_id, Evidence())
            ev.examined += theta(imp.rank) * decay(now - imp.ts, half_life_days)
    for e in once_per_reader(events):
        if e.audience != audience or not keep(e.article_id, e.ts):
            continue
        key = query_key(e.query)
        texts.setdefault(key, e.query)
        ev = table.setdefault(key, {}).setdefault(e.article_id, Evidence())
        ev.add(e.origin, e.kind, decay(now - e.ts, half_life_days))
    model = Model(texts=texts)
    for key, arts in table.items():
        sig = signals(arts)
        if sig:
            model.signals[key] = {a: s for a, s in sig.items() if s.value != 0.0}
            model.evidence[key] = arts
    return model


def signals(arts: Mapping[str, Evidence]) -> dict[str, Signal]:
    """The signal of every article some reader acted on, against the click rate of all of `arts` (one query's
    evidence, or several paraphrases' pooled)."""
    examined = sum(ev.examined for ev in arts.values())
    rate = min(1.0, sum(ev.clicks for ev in arts.values()) / examined) if examined > 0 else 0.0
    return {aid: Signal(ev.signal(rate), frozenset(ev.lifting), frozenset(ev.sinking), ev.parts(rate))
            for aid, ev in arts.items() if ev.lifting or ev.sinking}


def pooled(weighted: Iterable[tuple[Mapping[str, Evidence], float]]) -> dict[str, Evidence]:
    """Several queries' evidence as one query's, each query's clicks, examinations and votes counted at its
    weight: one prior and one click rate for the whole question, where averaging the paraphrases' signals
    would shrink each paraphrase's few readers towards zero on its own. A reader keeps their origin across
    the paraphrases, so they count once."""
    out: dict[str, Evidence] = {}
    for arts, w in weighted:
        for aid, ev in arts.items():
            acc = out.setdefault(aid, Evidence())
            acc.clicks += w * ev.clicks
            acc.examined += w * ev.examined
            acc.good += w * ev.good
            acc.bad += w * ev.bad
            acc.lifting |= ev.lifting
            acc.sinking |= ev.sinking
            for origin, mine in ev.readers.items():
                theirs = acc.readers.setdefault(origin, [0.0, 0.0, 0.0])
                for i, x in enumerate(mine):
                    theirs[i] += w * x
    return out
