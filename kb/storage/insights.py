"""What the insights page reads from the activity tables: events of a period counted per day and kind.

The database counts (a busy help center logs tens of thousands of searches a day, and a year of them
one row each was millions of rows for Python to sum); Python then makes the period's buckets (days,
or weeks starting on Monday) from the days (kb/reports/insights.py). A day is the first ten
characters of the ISO timestamp, which both SQLite and PostgreSQL can cut alike (their date
functions differ).
"""

from __future__ import annotations

from sqlalchemy import exists, func, literal, select

from kb.storage.database import Database
from kb.storage.schema import agent_marks, clicks, feedback, searches


class Insights:
    def __init__(self, db: Database):
        self.db = db

    def _rows(self, stmt) -> list[tuple]:
        with self.db.read() as c:
            return [tuple(r) for r in c.execute(stmt)]

    def _counted(self, *columns, where) -> list[tuple]:
        """(day, *columns, count) for the rows `where` selects, one per distinct combination."""
        table = columns[0].table
        inner = select(func.substr(table.c.ts, 1, 10).label("day"), *columns).where(*where).subquery()
        keys = list(inner.c)
        return self._rows(select(*keys, func.count()).group_by(*keys))

    def public_searches(self, since: str, until: str) -> list[tuple]:
        """(day, query language, UI language, answered, route, clicked 0/1, count) of public searches in
        [since, until)."""
        q = searches.c
        clicked = exists().where(clicks.c.search_id == q.id).label("clicked")
        return self._counted(q.lang, q.ui_lang, q.answered, q.route, clicked,
                             where=(q.audience == "public", q.ts >= since, q.ts < until))

    def votes(self, since: str, until: str) -> list[tuple]:
        """(day, article version's language, helpful 0/1, count) of "Was this helpful?" votes in [since, until)."""
        f = feedback.c
        return self._counted(f.lang, f.helpful, where=(f.ts >= since, f.ts < until))

    def marks(self, since: str, until: str) -> list[tuple]:
        """(day, article's language, mark, count) of agents' marks in [since, until)."""
        m = agent_marks.c
        return self._counted(m.lang, m.mark, where=(m.ts >= since, m.ts < until))

    def has_searches(self) -> bool:
        """Whether anything was ever searched (a demo's log is filled only while it is empty)."""
        return bool(self._rows(select(literal(1)).where(exists().where(searches.c.id.is_not(None)))))
