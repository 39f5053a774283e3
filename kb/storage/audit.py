"""The audit log: who signed in or failed to, which API tokens were used, who read internal articles.

For admins (`kb audit`, `/admin/audit`), apart from the activity log the
reports read. It holds account and token names, article ids and the route,
never passwords, tokens, query text or IP addresses. Token use is recorded
once a minute per token at most (when its last-used time moves on), not per
request. Rows older than the audit retention (KB_AUDIT_RETENTION_DAYS) are
deleted by `purge`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select

from kb.errors import KBError
from kb.storage.database import Database, now
from kb.storage.schema import audit_log

EVENTS = {
    "login": "signed in",
    "login_failed": "wrong user name or password",
    "login_locked": "sign-in refused: account locked after failures",
    "logout": "signed out (every session ended)",
    "token_used": "API token used",
    "token_refused": "API request with a bad, expired or revoked token",
    "internal_read": "internal article opened",
    "internal_suggested": "internal articles in suggested answers",
    "user_saved": "account created or its password and role reset",
    "password_changed": "password changed (every session ended)",
    "sessions_ended": "every session ended by an admin",
    "user_removed": "account removed",
    "token_added": "API token created",
    "token_revoked": "API token revoked",
}
_INSERT = insert(audit_log)


class Audit:
    """Append events; read them back newest first, filtered; delete the old ones."""

    def __init__(self, db: Database):
        self.db = db

    def log(self, event: str, actor: str | None = None, detail: str | None = None):
        if event not in EVENTS:
            raise KBError(f"unknown audit event {event!r}; known: {sorted(EVENTS)}")
        with self.db.write() as c:
            c.execute(_INSERT, {"ts": now(), "event": event, "actor": (actor or "")[:200] or None,
                                "detail": (detail or "")[:1000] or None})

    def recent(self, since: str | None = None, actor: str | None = None, event: str | None = None,
               limit: int = 200) -> list[dict]:
        """Events newest first: since an ISO date or time, by one actor (`alice`, `token:helpdesk`), of one kind."""
        q = select(audit_log.c.ts, audit_log.c.event, audit_log.c.actor, audit_log.c.detail)
        if since:
            q = q.where(audit_log.c.ts >= since)
        if actor:
            q = q.where(audit_log.c.actor == actor)
        if event:
            q = q.where(audit_log.c.event == event)
        with self.db.read() as c:
            rows = c.execute(q.order_by(audit_log.c.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def purge(self, older_than_days: int) -> int:
        """Delete events older than this many days; how many went."""
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=older_than_days)).isoformat(timespec="seconds")
        with self.db.write() as c:
            return c.execute(delete(audit_log).where(audit_log.c.ts < cutoff)).rowcount
