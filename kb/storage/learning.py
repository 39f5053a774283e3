"""What the learned ranking reads from the activity log, and when each article's content last changed.

Rows only, as plain tuples: kb/learning turns them into its events. A window
of the log is read (`since`), since with a 30-day half-life older behaviour
weighs almost nothing. Clicks and votes without a reader key (logged before
migration 0006, or by a caller that passes none) are read but cannot count:
nothing bounds how often they repeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import exists, select, update

from kb.storage.database import Database, now, upsert
from kb.storage.schema import agent_marks, clicks, feedback, learned_articles, searches, shown


class LearningLog:
    """The log as the learned model reads it, and the content each article's evidence belongs to."""

    def __init__(self, db: Database):
        self.db = db

    def _rows(self, stmt) -> list[tuple]:
        with self.db.read() as c:
            return [tuple(r) for r in c.execute(stmt)]

    def impressions(self, since: str) -> list[tuple]:
        """(query, article id, rank, audience, ts) of every result a search showed since `since`, the closest
        articles of one that did not answer included: they were shown, and clicked or not like the others."""
        q = searches.c
        stmt = (select(q.query, shown.c.article_id, shown.c.rank, q.audience, q.ts)
                .join(searches, q.id == shown.c.search_id).where(q.ts >= since, q.query != ""))
        return self._rows(stmt)

    def clicks(self, since: str) -> list[tuple]:
        """(search id, query, article id, rank, audience, ts, origin) of clicks on search results since `since`."""
        q = searches.c
        stmt = (select(clicks.c.search_id, q.query, clicks.c.article_id, clicks.c.rank, q.audience, clicks.c.ts,
                       clicks.c.origin).join(searches, q.id == clicks.c.search_id)
                .where(clicks.c.ts >= since, q.query != "").order_by(clicks.c.id))
        return self._rows(stmt)

    def votes(self, since: str) -> list[tuple]:
        """(query, article id, helpful, audience, ts, origin) of votes cast from a search's results: only by a
        reader who opened the article from that search (the search id comes from the reader's form, and
        naming another search's id must not carry a vote to its query)."""
        q, f = searches.c, feedback.c
        opened = exists().where(clicks.c.search_id == f.search_id, clicks.c.article_id == f.article_id,
                                clicks.c.origin == f.origin)
        stmt = (select(q.query, f.article_id, f.helpful, q.audience, f.ts, f.origin)
                .join(searches, q.id == f.search_id).where(f.ts >= since, q.query != "", opened))
        return self._rows(stmt)

    def marks(self, since: str) -> list[tuple]:
        """(ticket text, article id, mark, ts, agent) of agents' marks since `since`: the agent is the origin."""
        m = agent_marks.c
        stmt = select(m.query, m.article_id, m.mark, m.ts, m.user).where(m.ts >= since, m.query.is_not(None),
                                                                            m.query != "")
        return self._rows(stmt)

    def forget_readers(self, older_than_days: int) -> dict[str, int]:
        """Remove the reader keys of clicks and votes older than this many days, with the rest of the old text
        (KB_RETENTION_DAYS): a keyed hash links one reader's rows, so it goes when the text does; the rows
        stay, and no longer count towards learning."""
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=older_than_days)).isoformat(timespec="seconds")
        with self.db.write() as c:
            return {"reader keys": sum(c.execute(update(t).where(t.c.ts < cutoff, t.c.origin.is_not(None))
                                                 .values(origin=None)).rowcount for t in (clicks, feedback))}

    def content_since(self, hashes: Mapping[str, str]) -> dict[str, str]:
        """Article id -> since when its evidence counts: for an article whose content (`hashes`: id -> content
        hash) changed since the last call, now; for one seen for the first time, always ("")."""
        with self.db.read() as c:
            known = {a: (h, t) for a, h, t in c.execute(select(learned_articles.c.article_id,
                                                                learned_articles.c.content_hash,
                                                                learned_articles.c.since))}
        changed = {a: h for a, h in hashes.items() if known.get(a, (None,))[0] != h}
        if changed:
            ts = now()
            with self.db.write() as c:
                for aid, h in changed.items():
                    since = ts if aid in known else ""
                    upsert(c, learned_articles, {"article_id": aid, "content_hash": h, "since": since}, ("article_id",))
                    known[aid] = (h, since)
        return {a: t for a, (h, t) in known.items() if a in hashes}
