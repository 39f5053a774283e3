"""The edit history: every save of an article file from the editor or the API, with who, when and the diff.

Kept in the shared database with the rest of the activity data (the file
itself may live in git too, but many articles folders are not repositories):
a deleted article's text stays here, so it can be restored.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select

from kb.storage.database import Database, now
from kb.storage.schema import edits

_INSERT = insert(edits)


class Edits:
    def __init__(self, db: Database):
        self.db = db

    def record(self, *, article_id: str, lang: str, path: str, user: str, action: str, etag: str | None,
               diff: str, commit: str | None):
        with self.db.write() as c:
            c.execute(_INSERT, {"ts": now(), "article_id": article_id, "lang": lang, "path": path, "user": user,
                                "action": action, "etag": etag, "diff": diff, "commit": commit})

    def history(self, article_id: str, lang: str, limit: int = 100) -> list[dict]:
        """The newest saves of one article version first."""
        q = (select(edits).where(edits.c.article_id == article_id, edits.c.lang == lang)
             .order_by(edits.c.id.desc()).limit(limit))
        with self.db.read() as c:
            return [dict(r._mapping) for r in c.execute(q)]

    def last_reviewed(self) -> dict[tuple[str, str], dt.date]:
        """(id, lang) -> the day of its latest "Mark reviewed": the reports apply it before the background index
        has published the file's new `reviewed` date."""
        q = (select(edits.c.article_id, edits.c.lang, func.max(edits.c.ts)).where(edits.c.action == "reviewed")
             .group_by(edits.c.article_id, edits.c.lang))
        with self.db.read() as c:
            return {(aid, lang): dt.date.fromisoformat(ts[:10]) for aid, lang, ts in c.execute(q)}
