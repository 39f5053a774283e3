"""What the model learns from: impressions, clicks, votes and marks, counted once per reader, article and day.

A reader is an `origin`: a keyed hash of the signed-in user or the client
address (the web layer makes it; no address is stored). One reader counts at
most once per article, query, kind and day, so reloading or repeating a vote
a thousand times weighs what one vote weighs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DAY = 86_400.0
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


def once_per_reader_day(events: Iterable[Event]) -> list[Event]:
    """The first event of each (reader, query, article, kind, day); events without an origin are dropped,
    since nothing could bound how often they repeat."""
    seen, out = set(), []
    for e in sorted(events, key=lambda e: e.ts):
        if e.kind not in KINDS or not e.origin:
            continue
        unit = (e.origin, query_key(e.query), e.article_id, e.kind, int(e.ts // DAY))
        if unit not in seen:
            seen.add(unit)
            out.append(e)
    return out


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
