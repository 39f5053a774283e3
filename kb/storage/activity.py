"""What people did: searches, results shown, clicks, views, feedback, agent marks; and what reports ask of it.

No personal data: no IP addresses, no user agents; the query text and article
ids only (agents' names only on their own marks). Kept apart from the index
generations, so it survives re-indexing. Free text (queries, pasted tickets,
feedback reasons) is removed after the retention period by `forget_text`,
the rows staying for the counts. A view is counted once per reader, article and
window: the web layer passes a keyed hash of the three (`seen_key`), kept only
while its window lasts. Clicks and votes carry the reader as a keyed hash
(`origin`) for learning to count readers by (kb/storage/learning.py), removed
with the text after the retention period.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time

from sqlalchemy import and_, bindparam, case, delete, exists, func, insert, not_, or_, select, update

from kb.errors import KBError
from kb.storage.database import Database, insert_row, now
from kb.storage.schema import agent_marks, clicks, feedback, searches, shown, view_seen, views

# where a search is shown to a person whose clicks we log: an unclicked search there is a failed one
CLICK_TRACKED_ROUTES = ("help_center",)
MARKS = ("solved", "not_relevant")

# the writes every request makes go through Database.cursor (see there why); the same statements run on a
# Core connection where a write needs more than plain inserts (a view counted once per window)
_INSERT_SEARCH = insert_row(searches, returning=searches.c.id)
_INSERT_CLICK = insert_row(clicks)
_INSERT_VIEW = insert_row(views)
_INSERT_FEEDBACK = insert_row(feedback, returning=feedback.c.id)
_INSERT_MARK = insert_row(agent_marks)


@functools.lru_cache(maxsize=64)
def _insert_shown(n: int):
    """One INSERT of a search's n results shown: on PostgreSQL, ten rows sent as ten statements (executemany)
    cost three times the search's own row, in the server and in the client."""
    return insert(shown).values([{"search_id": bindparam(f"s{i}"), "article_id": bindparam(f"a{i}"),
                                  "lang": bindparam(f"l{i}"), "rank": bindparam(f"r{i}")} for i in range(n)])


class Activity:
    """The activity log: one method per thing logged, one per question a report asks."""

    def __init__(self, db: Database):
        self.db = db
        self._seen_swept = 0.0  # monotonic time of the last sweep of view_seen
        self._sweep_lock = threading.Lock()

    # --- logging -----------------------------------------------------------

    def log_search(self, query: str, lang: str | None, ui_lang: str | None, audience: str, route: str,
                   results: list[tuple[str, str, float]], total: int, *, answered: bool = True) -> int:
        """Log one search and the results shown: (article id, lang, score) in rank order.

        `answered` False: the search found nothing likely to answer, and `results` are the closest
        articles shown as such (a failed search; they do not count as shown by a search in reports).
        """
        top = results[0] if results else (None, None, None)
        db = self.db
        with db.cursor() as cur:
            cur.execute(db.sql(_INSERT_SEARCH), {
                "ts": now(), "query": query[:500], "lang": lang, "ui_lang": ui_lang, "audience": audience,
                "route": route, "results": total, "top_score": top[2], "top_id": top[0],
                "answered": int(bool(answered))})
            sid = cur.fetchone()[0]
            if results:
                params = {}
                for i, (aid, lang_, _) in enumerate(results):
                    params.update({f"s{i}": sid, f"a{i}": aid, f"l{i}": lang_, f"r{i}": i + 1})
                cur.execute(db.sql(_insert_shown(len(results))), params)
        return sid

    def log_click(self, search_id: int | None, article_id: str, lang: str | None, rank: int | None,
                  origin: str | None = None):
        """`origin`: the reader as a keyed hash (the web layer's `reader_origin`), for learning's per-reader count."""
        with self.db.cursor() as cur:
            cur.execute(self.db.sql(_INSERT_CLICK), {"ts": now(), "search_id": search_id, "article_id": article_id,
                                                     "lang": lang, "rank": rank, "origin": origin})

    def log_view(self, article_id: str, lang: str, ui_lang: str | None, audience: str, *,
                 seen_key: str | None = None, keep_seconds: int = 3600) -> bool:
        """Log a view; with `seen_key`, only if no view with that key was logged in the last `keep_seconds`.

        The key names the reader, the article and the time window (the web layer hashes them with its secret);
        whether the view was logged is returned."""
        row = {"ts": now(), "article_id": article_id, "lang": lang, "ui_lang": ui_lang, "audience": audience}
        if seen_key is None:
            with self.db.cursor() as cur:
                cur.execute(self.db.sql(_INSERT_VIEW), row)
            return True
        with self.db.write() as c:
            if not _insert_new(c, view_seen, {"key": seen_key, "ts": row["ts"]}):
                return False
            c.execute(_INSERT_VIEW, row)
        self._sweep_seen(keep_seconds)
        return True

    def _sweep_seen(self, keep_seconds: int):
        """Delete the keys of windows that are over, at most once a minute per process."""
        with self._sweep_lock:
            if time.monotonic() - self._seen_swept < 60:
                return
            self._seen_swept = time.monotonic()
        with self.db.write() as c:
            c.execute(delete(view_seen).where(view_seen.c.ts < _ago(dt.timedelta(seconds=keep_seconds))))

    def add_feedback(self, article_id: str, lang: str, helpful: bool, reason: str | None,
                     source: str = "visitor", *, origin: str | None = None, search_id: int | None = None) -> int:
        """`search_id`: the search the reader came from, so the vote teaches about that query (kb/learning)."""
        with self.db.cursor() as cur:
            cur.execute(self.db.sql(_INSERT_FEEDBACK), {"ts": now(), "article_id": article_id, "lang": lang,
                                                        "helpful": int(bool(helpful)),
                                                        "reason": (reason or "").strip()[:1000] or None,
                                                        "source": source, "origin": origin, "search_id": search_id})
            return cur.fetchone()[0]

    def add_feedback_reason(self, feedback_id: int, reason: str) -> bool:
        """What was missing, sent after the vote ("No", then the reason box); once per vote, never overwritten."""
        reason = (reason or "").strip()[:1000]
        if not reason:
            return False
        with self.db.write() as c:
            return c.execute(update(feedback).where(feedback.c.id == feedback_id, feedback.c.reason.is_(None))
                             .values(reason=reason)).rowcount > 0

    def add_mark(self, article_id: str, lang: str | None, mark: str, query: str | None, user: str | None):
        if mark not in MARKS:
            raise KBError(f"mark must be one of {list(MARKS)}, got {mark!r}")
        with self.db.cursor() as cur:
            cur.execute(self.db.sql(_INSERT_MARK), {"ts": now(), "article_id": article_id, "lang": lang, "mark": mark,
                                                    "query": (query or "")[:2000], "user": user})

    def forget_text(self, older_than_days: int) -> dict[str, int]:
        """Remove the free text of rows older than this many days, keeping the rows (and so every count):
        search queries and pasted tickets become '', agents' ticket text and feedback reasons NULL."""
        cutoff = _ago(dt.timedelta(days=older_than_days))
        with self.db.write() as c:
            return {
                "searches": c.execute(update(searches).where(searches.c.ts < cutoff, searches.c.query != "")
                                      .values(query="")).rowcount,
                "marks": c.execute(update(agent_marks).where(agent_marks.c.ts < cutoff, agent_marks.c.query.is_not(None))
                                   .values(query=None)).rowcount,
                "feedback reasons": c.execute(update(feedback).where(feedback.c.ts < cutoff,
                                                                     feedback.c.reason.is_not(None))
                                              .values(reason=None)).rowcount,
            }

    # --- reading -----------------------------------------------------------

    def _rows(self, stmt) -> list[tuple]:
        with self.db.read() as c:
            return [tuple(r) for r in c.execute(stmt)]

    def shown_by_answered_searches(self, since: str) -> set[str]:
        """Ids of articles shown as results of searches that answered, since `since` (ISO date).

        A search that showed results but did not answer (`answered` 0) showed its closest articles only:
        they were offered as "not quite", not found. Searches logged before `answered` was recorded
        count as answered when they had results.
        """
        stmt = (select(shown.c.article_id).distinct().join(searches, searches.c.id == shown.c.search_id)
                .where(searches.c.ts >= since, searches.c.results > 0,
                       or_(searches.c.answered.is_(None), searches.c.answered != 0)))
        return {r[0] for r in self._rows(stmt)}

    def failed_searches(self, since: str, audience: str = "public", limit: int = 2000) -> list[tuple]:
        """(query, lang, count, unanswered count) of failed searches since `since`, the most repeated first.

        A search failed when it returned nothing, did not answer, or showed results in the help center
        and nobody clicked one. Repeats are the same text up to case and outer spaces.
        """
        q = searches.c
        unanswered = or_(q.results == 0, q.answered == 0)  # NULL (rows from before `answered`) is not 0
        clicked = exists().where(clicks.c.search_id == q.id)
        failed = or_(unanswered, and_(q.route.in_(CLICK_TRACKED_ROUTES), not_(clicked)))
        n = func.count()
        stmt = (select(func.min(q.query), q.lang, n, func.sum(case((unanswered, 1), else_=0)))
                .where(q.ts >= since, q.audience == audience, q.query != "", failed)  # '': text forgotten
                .group_by(func.lower(func.trim(q.query)), q.lang)
                .order_by(n.desc(), func.min(q.query)).limit(limit))
        return self._rows(stmt)

    def opened_from(self, since: str, queries: list[str], audience: str = "public") -> dict[str, tuple[int, int]]:
        """Article id -> (answered searches of these queries that showed it, of them those where it was opened),
        in the routes whose clicks are logged: whether readers who searched those words chose that article.
        Queries match up to case and outer spaces, as `failed_searches` groups them."""
        keys = sorted({q.strip().lower() for q in queries if q.strip()})
        if not keys:
            return {}
        q = searches.c
        opened = exists().where(clicks.c.search_id == q.id, clicks.c.article_id == shown.c.article_id)
        stmt = (select(shown.c.article_id, func.count(), func.sum(case((opened, 1), else_=0)))
                .join(searches, q.id == shown.c.search_id)
                .where(q.ts >= since, q.audience == audience, q.route.in_(CLICK_TRACKED_ROUTES),
                       or_(q.answered.is_(None), q.answered != 0), func.lower(func.trim(q.query)).in_(keys))
                .group_by(shown.c.article_id))
        return {aid: (n, int(k or 0)) for aid, n, k in self._rows(stmt)}

    def viewed_articles(self, since: str) -> set[str]:
        """Ids of articles opened since `since`."""
        return {r[0] for r in self._rows(select(views.c.article_id).distinct().where(views.c.ts >= since))}

    def popular(self, lang: str, audience: str = "public", limit: int = 100) -> list[tuple[str, int]]:
        """(article id, weight) by views, a view in `lang` counting twice: the help center's home page list."""
        weight = func.sum(case((views.c.lang == lang, 2), else_=1))
        stmt = (select(views.c.article_id, weight).where(views.c.audience == audience)
                .group_by(views.c.article_id).order_by(weight.desc(), views.c.article_id).limit(limit))
        return self._rows(stmt)

    def traffic(self, since: str) -> dict[str, int]:
        """Article id -> views plus times shown by a search, since `since`: how much a problem in it matters."""
        out = dict(self._rows(select(views.c.article_id, func.count()).where(views.c.ts >= since)
                              .group_by(views.c.article_id)))
        stmt = (select(shown.c.article_id, func.count()).join(searches, searches.c.id == shown.c.search_id)
                .where(searches.c.ts >= since).group_by(shown.c.article_id))
        for aid, n in self._rows(stmt):
            out[aid] = out.get(aid, 0) + n
        return out

    def demand(self, since: str) -> list[tuple[str, str, int]]:
        """(article id, reader language, count): searches in that language that showed it in the top 3, and
        views by readers of that UI language (two rows when both)."""
        q = searches.c
        shown_in = (select(shown.c.article_id, q.lang, func.count()).join(searches, q.id == shown.c.search_id)
                    .where(q.ts >= since, q.lang.is_not(None), shown.c.rank <= 3).group_by(shown.c.article_id, q.lang))
        viewed_in = (select(views.c.article_id, views.c.ui_lang, func.count())
                     .where(views.c.ts >= since, views.c.ui_lang.is_not(None))
                     .group_by(views.c.article_id, views.c.ui_lang))
        return self._rows(shown_in) + self._rows(viewed_in)

    def feedback_votes(self, since: str) -> list[tuple[str, str, int, int, list[str]]]:
        """(article id, lang, helpful votes, votes, the unhelpful votes' reasons, oldest first) since `since`."""
        stmt = (select(feedback.c.article_id, feedback.c.lang, feedback.c.helpful, feedback.c.reason)
                .where(feedback.c.ts >= since).order_by(feedback.c.id))
        votes: dict[tuple[str, str], list] = {}
        for aid, lang, helpful, reason in self._rows(stmt):
            v = votes.setdefault((aid, lang), [0, 0, []])
            v[0] += helpful
            v[1] += 1
            if not helpful and reason:
                v[2].append(reason)
        return [(aid, lang, h, n, reasons) for (aid, lang), (h, n, reasons) in votes.items()]

    def mark_counts(self, since: str) -> dict[tuple[str, str], tuple[int, int]]:
        """(article id, lang or "") -> (not relevant marks, solved marks) since `since`."""
        lang = func.coalesce(agent_marks.c.lang, "")
        count = lambda mark: func.sum(case((agent_marks.c.mark == mark, 1), else_=0))  # noqa: E731
        stmt = (select(agent_marks.c.article_id, lang, count("not_relevant"), count("solved"))
                .where(agent_marks.c.ts >= since).group_by(agent_marks.c.article_id, lang))
        return {(a, lang_): (bad, good) for a, lang_, bad, good in self._rows(stmt)}


def _ago(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.timezone.utc) - delta).isoformat(timespec="seconds")


def _insert_new(conn, table, values: dict) -> bool:
    """Insert a row unless one with the same key exists (ON CONFLICT DO NOTHING on both engines); inserted?"""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    key = list(table.primary_key.columns)[0]  # RETURNING, not rowcount: psycopg reports -1 for this statement
    return conn.execute(dialect_insert(table).values(values).on_conflict_do_nothing().returning(key)).first() is not None
