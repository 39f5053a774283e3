"""What the model learns from: impressions, clicks, votes and marks, each reader counted once.

A reader is an `origin`: a keyed hash of the signed-in user or the client
address (the web layer makes it; no address is stored). One reader counts at
most once per query, article and kind over the whole log (their latest), not
once a day: a reader who votes every day for a month would otherwise weigh
thirty readers, and add that weight to the genuine readers who clicked the
same article for a paraphrase (bench/results/learning.md found such stuffed
articles reaching the first three).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

POSITIVE = {"click": 1.0, "helpful": 1.0, "solved": 2.0}  # a vote or a solved ticket says more than a click
NEGATIVE = {"unhelpful": 1.0, "not_relevant": 2.0, "bounce": 0.5}
KINDS = set(POSITIVE) | set(NEGATIVE)
BOUNCE_SECONDS = 20.0  # a click followed this soon by another click of the same search: the reader came back


@dataclass(frozen=True)
class Impression:
    """An article shown for a query at a rank (1 first): the chance it was examined is the model's θ_rank."""

    query: str
    article_id: str
    rank: int
    audience: str
    ts: float  # seconds since the epoch


@dataclass(frozen=True)
class Event:
    """Something a reader did about an article for a query: a click, a vote, an agent's mark, a bounce."""

    query: str
    article_id: str
    kind: str
    origin: str
    audience: str
    ts: float
    rank: int | None = None  # where it was shown, when the event came from a results page


def query_key(text: str) -> str:
    """Queries that differ only in case and spacing are one query."""
    return " ".join(text.lower().split())


def once_per_reader(events: Iterable[Event]) -> list[Event]:
    """The latest event of each (reader, query, article, kind); events without an origin are dropped, since
    nothing could bound how often they repeat."""
    latest: dict[tuple, Event] = {}
    for e in events:
        if e.kind not in KINDS or not e.origin:
            continue
        unit = (e.origin, query_key(e.query), e.article_id, e.kind)
        if unit not in latest or e.ts > latest[unit].ts:
            latest[unit] = e
    return sorted(latest.values(), key=lambda e: e.ts)


def with_bounces(clicks: list[tuple[int, Event]]) -> list[Event]:
    """Clicks as logged, (search id, click), with each click the same search clicked again within
    BOUNCE_SECONDS turned into a bounce: the reader opened it and came straight back."""
    by_search: dict[int, list[Event]] = {}
    for sid, e in clicks:
        by_search.setdefault(sid, []).append(e)
    out = []
    for group in by_search.values():
        group.sort(key=lambda e: e.ts)
        for e, nxt in zip(group, group[1:] + [None]):
            bounced = nxt is not None and nxt.article_id != e.article_id and nxt.ts - e.ts < BOUNCE_SECONDS
            out.append(Event(e.query, e.article_id, "bounce" if bounced else "click", e.origin, e.audience, e.ts,
                             e.rank))
    return out
