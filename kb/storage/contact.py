"""Contact requests, contact-form session events and the webhook outbox (kb.contact.requests, kb.contact.outbox).

The request and its outbox row are written in one transaction, so a request is never
stored without its delivery, nor delivered without being stored. Senders claim due rows
with a lease: several server processes may each run a sender and a row is sent by one at a
time; a sender that dies mid-send leaves a lease that simply expires. On PostgreSQL the
claim skips rows another sender has locked; on SQLite it takes the write lock first.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, insert, or_, select, update

from kb.storage.database import Database
from kb.storage.schema import contact_events, contact_requests, outbox

if TYPE_CHECKING:
    from kb.contact.requests import ContactRequest

EVENTS = ("open", "click", "submit")  # a contact-form session's events (kb.contact.requests: deflection)


@dataclass
class Delivery:
    """One claimed outbox row: the JSON to send and how many times sending it failed before."""

    id: int
    payload: str
    attempts: int


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


class ContactStore:
    """One method per thing the contact form, the outbox sender and the insights need."""

    def __init__(self, db: Database):
        self.db = db

    def add_request(self, req: ContactRequest, deliver: bool) -> int:
        """Store the request, and queue it for the webhook when `deliver`; its form session ends as submitted."""
        with self.db.write() as c:
            rid = c.execute(insert(contact_requests), {
                "uid": req.uid, "ts": req.created, "lang": req.lang, "subject": req.subject, "message": req.message,
                "email": req.email, "name": req.name or None, "article_id": req.article_id,
                "form_id": req.form_id}).inserted_primary_key[0]
            if deliver:
                c.execute(insert(outbox), {"request_id": rid, "payload": json.dumps(req.payload(), ensure_ascii=False),
                                           "created": req.created, "next_at": req.created, "attempts": 0})
            if req.form_id:
                c.execute(insert(contact_events), {"ts": req.created, "form_id": req.form_id, "kind": "submit",
                                                   "lang": req.lang})
        return rid

    def add_event(self, form_id: str, kind: str, lang: str | None, article_id: str | None = None,
                  at: dt.datetime | None = None):
        if kind not in EVENTS:
            raise ValueError(f"event kind must be one of {list(EVENTS)}, got {kind!r}")
        with self.db.write() as c:
            c.execute(insert(contact_events), {"ts": iso(at or dt.datetime.now(dt.timezone.utc)), "form_id": form_id,
                                               "kind": kind, "lang": lang, "article_id": article_id})

    def request(self, uid: str) -> dict | None:
        r = contact_requests.c
        with self.db.read() as c:
            row = c.execute(select(r.uid, r.ts, r.lang, r.subject, r.email).where(r.uid == uid)).first()
        return dict(row._mapping) if row else None

    def requests_of_form(self, form_id: str) -> list[tuple]:
        r = contact_requests.c
        with self.db.read() as c:
            return [tuple(x) for x in c.execute(select(r.subject, r.email, r.lang, r.form_id)
                                                .where(r.form_id == form_id).order_by(r.id))]

    def form_events(self, since: str, until: str) -> dict[str, list[tuple[str, str, str | None]]]:
        """form id -> its (kind, ISO time, lang) events, for the sessions opened in [since, until)."""
        e = contact_events.c
        opened = select(e.form_id).where(e.kind == "open", e.ts >= since, e.ts < until)
        out: dict[str, list] = {}
        with self.db.read() as c:
            for form_id, kind, ts, lang in c.execute(select(e.form_id, e.kind, e.ts, e.lang)
                                                     .where(e.form_id.in_(opened)).order_by(e.ts, e.id)):
                out.setdefault(form_id, []).append((kind, ts, lang))
        return out

    # --- the outbox -------------------------------------------------------------

    def claim_due(self, at: dt.datetime, lease_seconds: float, limit: int = 20) -> list[Delivery]:
        """Undelivered rows due by `at` that no other sender holds, leased to this one."""
        now_s, until = iso(at), iso(at + dt.timedelta(seconds=lease_seconds))
        o = outbox.c
        due = (select(o.id, o.payload, o.attempts)
               .where(o.delivered.is_(None), o.next_at <= now_s, or_(o.lease_until.is_(None), o.lease_until <= now_s))
               .order_by(o.id).limit(limit))
        with self.db.exclusive() as c:
            if not self.db.is_sqlite:
                due = due.with_for_update(skip_locked=True)
            rows = [Delivery(*r) for r in c.execute(due)]
            if rows:
                c.execute(update(outbox).where(o.id.in_([d.id for d in rows])).values(lease_until=until))
        return rows

    def delivered(self, outbox_id: int, at: dt.datetime):
        with self.db.write() as c:
            c.execute(update(outbox).where(outbox.c.id == outbox_id).values(
                delivered=iso(at), lease_until=None, attempts=outbox.c.attempts + 1, last_error=None))

    def failed(self, outbox_id: int, error: str, retry_at: dt.datetime):
        with self.db.write() as c:
            c.execute(update(outbox).where(outbox.c.id == outbox_id).values(
                attempts=outbox.c.attempts + 1, next_at=iso(retry_at), lease_until=None, last_error=error[:500]))

    def next_due(self) -> str | None:
        """When the earliest undelivered row is due (ISO), or None when all were delivered."""
        with self.db.read() as c:
            return c.execute(select(func.min(outbox.c.next_at)).where(outbox.c.delivered.is_(None))).scalar()

    def outbox_counts(self) -> dict[str, int]:
        o = outbox.c
        with self.db.read() as c:
            pending = c.execute(select(func.count()).where(o.delivered.is_(None))).scalar()
            delivered = c.execute(select(func.count()).where(and_(o.delivered.is_not(None)))).scalar()
        return {"pending": pending or 0, "delivered": delivered or 0}

    def forget_text(self, older_than_days: int, at: dt.datetime | None = None) -> dict[str, int]:
        """Blank what customers wrote (subject, message, email, name) in requests older than this many days, and
        the copies in delivered outbox rows; the rows stay, so every count does. A request still waiting for the
        webhook keeps its text until it is delivered: forgetting it first would lose the request."""
        cutoff = iso((at or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=older_than_days))
        r, o = contact_requests.c, outbox.c
        waiting = select(o.request_id).where(o.delivered.is_(None))
        with self.db.write() as c:
            requests = c.execute(update(contact_requests).where(r.ts < cutoff, r.email != "", r.id.not_in(waiting))
                                 .values(subject="", message="", email="", name=None)).rowcount
            c.execute(update(outbox).where(o.created < cutoff, o.delivered.is_not(None), o.payload != "{}")
                      .values(payload="{}"))
        return {"contact requests": requests}

    def attempts(self) -> list[int]:
        """Each outbox row's attempts so far, oldest row first."""
        with self.db.read() as c:
            return [r[0] for r in c.execute(select(outbox.c.attempts).order_by(outbox.c.id))]
