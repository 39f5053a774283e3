"""What the insights page reads from the activity tables: one row per event in a period, for bucketing.

Rows, not sums: the period's buckets (days, or weeks starting on Monday) and languages are made
in Python (kb/reports/insights.py), the same way on SQLite and PostgreSQL, whose date functions
differ. A period of a year is tens of thousands of short rows at most.
"""

from __future__ import annotations

from sqlalchemy import exists, literal, select

from .database import Database
from .schema import agent_marks, clicks, feedback, searches


class Insights:
    def __init__(self, db: Database):
        self.db = db

    def _rows(self, stmt) -> list[tuple]:
        with self.db.read() as c:
            return [tuple(r) for r in c.execute(stmt)]

    def public_searches(self, since: str, until: str) -> list[tuple]:
        """(ts, query language, UI language, answered, route, clicked 0/1) of public searches in [since, until)."""
        q = searches.c
        clicked = exists().where(clicks.c.search_id == q.id)
        return self._rows(select(q.ts, q.lang, q.ui_lang, q.answered, q.route, clicked)
                          .where(q.audience == "public", q.ts >= since, q.ts < until))

    def votes(self, since: str, until: str) -> list[tuple]:
        """(ts, article version's language, helpful 0/1) of "Was this helpful?" votes in [since, until)."""
        f = feedback.c
        return self._rows(select(f.ts, f.lang, f.helpful).where(f.ts >= since, f.ts < until))

    def marks(self, since: str, until: str) -> list[tuple]:
        """(ts, article's language, mark) of agents' marks in [since, until)."""
        m = agent_marks.c
        return self._rows(select(m.ts, m.lang, m.mark).where(m.ts >= since, m.ts < until))

    def has_searches(self) -> bool:
        """Whether anything was ever searched (a demo's log is filled only while it is empty)."""
        return bool(self._rows(select(literal(1)).where(exists().where(searches.c.id.is_not(None)))))
