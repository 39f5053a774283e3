"""Insights for support leads: what the knowledge base did for customers and agents, per period and language.

Each metric is a `Series`: for every bucket (a day, or a week starting on Monday) and every
language, a count or a rate with its numerator and denominator, so a chart, its table and
its CSV show the same numbers and a rate over two buckets can be recomputed exactly.

- searches: public searches (help center and API), by the query's detected language;
- answered: the share of them the search answered (`searches.answered`; rows logged before
  that was recorded are left out of the rate);
- click-through: help-center searches that answered and got a click on a result;
- helpful: "Yes" votes of all votes on "Was this article helpful?", by article version;
- solved: agents' "solved it" marks of all their marks (solved or not relevant);
- deflection: contact-form sessions that ended deflected (a suggested article opened, no
  request within kb.contact.requests.DEFLECTED_AFTER minutes) of those that ended deflected or sent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from kb.contact import requests as contact
from kb.errors import KBError

BUCKETS = ("day", "week")
MAX_BUCKETS = 400
ALL = "all"
METRICS = ("searches", "answered", "ctr", "helpful", "solved", "deflection")
RATES = {"answered", "ctr", "helpful", "solved", "deflection"}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    bucket: str = "week"

    def checked(self) -> Period:
        if self.bucket not in BUCKETS:
            raise KBError(f"bucket must be one of {list(BUCKETS)}, got {self.bucket!r}")
        if self.end < self.start:
            raise KBError(f"the period ends ({self.end}) before it starts ({self.start})")
        if len(self.buckets()) > MAX_BUCKETS:
            raise KBError(f"the period has over {MAX_BUCKETS} {self.bucket}s; choose a shorter one or weeks")
        return self

    @property
    def since(self) -> str:
        return self.start.isoformat()

    @property
    def until(self) -> str:
        """The first instant after the period, as an ISO prefix that sorts after every timestamp in it."""
        return (self.end + dt.timedelta(days=1)).isoformat()

    def bucket_of(self, day: dt.date) -> dt.date:
        return day - dt.timedelta(days=day.weekday()) if self.bucket == "week" else day

    @property
    def bucket_days(self) -> int:
        return 7 if self.bucket == "week" else 1

    def days_in(self, bucket: dt.date) -> int:
        """How many of the bucket's days the period covers: a week cut by the period's start or end is partial, and
        its counts are not comparable with a whole week's (25 searches in two days beside 236 in seven)."""
        last = bucket + dt.timedelta(days=self.bucket_days - 1)
        return max(0, (min(last, self.end) - max(bucket, self.start)).days + 1)

    def partial(self, bucket: dt.date) -> bool:
        return self.days_in(bucket) < self.bucket_days

    def buckets(self) -> list[dt.date]:
        first, out = self.bucket_of(self.start), []
        step = dt.timedelta(days=7 if self.bucket == "week" else 1)
        while first <= self.end and len(out) <= MAX_BUCKETS:
            out.append(first)
            first += step
        return out


@dataclass
class Cell:
    num: float = 0
    den: float = 0

    def value(self, rate: bool) -> float | None:
        if not rate:
            return self.num
        return self.num / self.den if self.den else None


@dataclass
class Series:
    metric: str
    buckets: list[dt.date]
    cells: dict[tuple[dt.date, str], Cell] = field(default_factory=lambda: defaultdict(Cell))

    @property
    def rate(self) -> bool:
        return self.metric in RATES

    def langs(self) -> list[str]:
        """Languages with data, most data first (ALL not included)."""
        weight: dict[str, float] = defaultdict(float)
        for (_b, lang), c in self.cells.items():
            if lang != ALL:
                weight[lang] += c.den if self.rate else c.num
        return sorted(weight, key=lambda k: (-weight[k], k))

    def values(self, lang: str = ALL) -> list[float | None]:
        return [self.cells[(b, lang)].value(self.rate) if (b, lang) in self.cells else
                (None if self.rate else 0) for b in self.buckets]

    def total(self, lang: str = ALL) -> Cell:
        out = Cell()
        for (_b, k), c in self.cells.items():
            if k == lang:
                out.num += c.num
                out.den += c.den
        return out

    def add(self, day: dt.date, lang: str | None, num: float, den: float = 0, period: Period | None = None):
        b = period.bucket_of(day) if period else day
        for key in (lang or "?", ALL):
            cell = self.cells[(b, key)]
            cell.num += num
            cell.den += den

    def rows(self) -> list[dict]:
        """One row per bucket and language (ALL included): the CSV and the table alternative."""
        out = []
        for b in self.buckets:
            for lang in [ALL, *self.langs()]:
                c = self.cells.get((b, lang))
                if c is None:
                    continue
                out.append({"bucket": b.isoformat(), "lang": lang, "value": _round(c.value(self.rate)),
                            "numerator": _round(c.num), "denominator": _round(c.den) if self.rate else None})
        return out


def _round(v):
    return None if v is None else round(v, 4) if isinstance(v, float) and not v.is_integer() else int(v)


def _day(ts: str) -> dt.date:
    return dt.date.fromisoformat(ts[:10])


def compute(store, contacts, period: Period, now: dt.datetime | None = None) -> dict[str, Series]:
    """Every metric over the period, from `store` (kb.storage.insights.Insights) and `contacts`
    (kb.storage.contact.ContactStore)."""
    period = period.checked()
    out = {m: Series(m, period.buckets()) for m in METRICS}
    span = (period.since, period.until)
    for day, lang, ui_lang, answered, route, clicked, n in store.public_searches(*span):
        day, lang = _day(day), lang or ui_lang
        out["searches"].add(day, lang, n, period=period)
        if answered is not None:
            out["answered"].add(day, lang, answered * n, n, period)
        if route == "help_center" and answered:
            out["ctr"].add(day, lang, int(bool(clicked)) * n, n, period)
    for day, lang, helpful, n in store.votes(*span):
        out["helpful"].add(_day(day), lang, helpful * n, n, period)
    for day, lang, mark, n in store.marks(*span):
        out["solved"].add(_day(day), lang, int(mark == "solved") * n, n, period)
    at = now or dt.datetime.now(dt.timezone.utc)
    for events in contacts.form_events(*span).values():
        ended = contact.outcome([(k, t) for k, t, _l in events], at)
        if ended != "open":
            out["deflection"].add(_day(events[0][1]), events[0][2], int(ended == "deflected"), 1, period)
    return out
