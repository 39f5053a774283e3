"""The learned model rebuilt from the shared database: every replica reads the same log and the same
content dates (kb/storage/learning.py), so every replica learns the same ranking."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping

import numpy as np

from kb.learning.events import Event, Impression, with_bounces
from kb.learning.learner import Learner
from kb.storage.database import Database
from kb.storage.learning import LearningLog

log = logging.getLogger(__name__)

WINDOW_DAYS = 180  # six half-lives: what is older weighs under 2%
MARKS = {"solved": "solved", "not_relevant": "not_relevant"}


def _seconds(ts: str) -> float:
    return dt.datetime.fromisoformat(ts).timestamp() if ts else float("-inf")


def read(db: Database, now: float) -> tuple[list[Impression], list[Event]]:
    """The window of the log the model learns from, as impressions and events."""
    store = LearningLog(db)
    since = dt.datetime.fromtimestamp(now - WINDOW_DAYS * 86_400, dt.timezone.utc).isoformat(timespec="seconds")
    impressions = [Impression(q, a, r, aud, _seconds(ts)) for q, a, r, aud, ts in store.impressions(since)]
    clicked = [(sid, Event(q, a, "click", origin or "", aud, _seconds(ts), r))
               for sid, q, a, r, aud, ts, origin in store.clicks(since)]
    events = with_bounces(clicked)
    events += [Event(q, a, "helpful" if helpful else "unhelpful", origin or "", aud, _seconds(ts))
               for q, a, helpful, aud, ts, origin in store.votes(since)]
    events += [Event(q, a, MARKS[m], f"agent:{user}" if user else "", "internal", _seconds(ts))
               for q, a, m, ts, user in store.marks(since) if m in MARKS]
    return impressions, events


def rebuild(learner: Learner, db: Database, embed: Callable[[list[str]], np.ndarray], hashes: Mapping[str, str],
            public_ids: set[str], now: float | None = None) -> dict[str, int]:
    """Refit `learner` from the database: `hashes` (article id -> content hash) and `public_ids` from the
    generation being served. Returns the logged queries per audience."""
    now = time.time() if now is None else now
    since = {a: _seconds(t) for a, t in LearningLog(db).content_since(hashes).items()}
    impressions, events = read(db, now)
    counts = learner.fit(impressions, events, now, embed, since, public_ids)
    log.info("learned from %d impressions and %d events: %s", len(impressions), len(events), counts)
    return counts
