"""Where contact requests, form-session events and the webhook outbox are kept.

The request and its outbox row are written in one transaction, so a request is never
stored without its delivery, nor delivered without being stored. Senders claim due rows
with a lease: several server processes may each run a sender, and a row is sent by one at
a time; a sender that dies mid-send leaves a lease that simply expires.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from .contact import EVENTS, ContactRequest

SCHEMA = """
CREATE TABLE IF NOT EXISTS contact_requests (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, ts TEXT NOT NULL, lang TEXT NOT NULL, subject TEXT NOT NULL,
    message TEXT NOT NULL, email TEXT NOT NULL, name TEXT, article_id TEXT, form_id TEXT);
CREATE INDEX IF NOT EXISTS contact_requests_ts ON contact_requests(ts);
CREATE TABLE IF NOT EXISTS contact_events (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, form_id TEXT NOT NULL, kind TEXT NOT NULL, lang TEXT,
    article_id TEXT);
CREATE INDEX IF NOT EXISTS contact_events_form ON contact_events(form_id);
CREATE INDEX IF NOT EXISTS contact_events_ts ON contact_events(ts);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL, payload TEXT NOT NULL, created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at TEXT NOT NULL, lease_until TEXT, delivered TEXT,
    last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(delivered, next_at);
"""


@dataclass
class Delivery:
    """One claimed outbox row: the JSON to send and how many times sending it failed before."""

    id: int
    payload: str
    attempts: int


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


class ContactStore:
    """One connection per thread to the activity database's contact tables."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        with self._conn() as c:
            c.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def add_request(self, req: ContactRequest, deliver: bool) -> int:
        """Store the request, and queue it for the webhook when `deliver`; its form session ends as submitted."""
        with self._conn() as c:
            rid = c.execute("INSERT INTO contact_requests (uid, ts, lang, subject, message, email, name, article_id,"
                            " form_id) VALUES (?,?,?,?,?,?,?,?,?)",
                            (req.uid, req.created, req.lang, req.subject, req.message, req.email, req.name or None,
                             req.article_id, req.form_id)).lastrowid
            if deliver:
                c.execute("INSERT INTO outbox (request_id, payload, created, next_at) VALUES (?,?,?,?)",
                          (rid, json.dumps(req.payload(), ensure_ascii=False), req.created, req.created))
            if req.form_id:
                c.execute("INSERT INTO contact_events (ts, form_id, kind, lang) VALUES (?,?,?,?)",
                          (req.created, req.form_id, "submit", req.lang))
        return rid

    def add_event(self, form_id: str, kind: str, lang: str | None, article_id: str | None = None,
                  at: dt.datetime | None = None):
        if kind not in EVENTS:
            raise ValueError(f"event kind must be one of {list(EVENTS)}, got {kind!r}")
        with self._conn() as c:
            c.execute("INSERT INTO contact_events (ts, form_id, kind, lang, article_id) VALUES (?,?,?,?,?)",
                      (_iso(at or dt.datetime.now(dt.timezone.utc)), form_id, kind, lang, article_id))

    def request(self, uid: str) -> dict | None:
        row = self._conn().execute("SELECT uid, ts, lang, subject, email FROM contact_requests WHERE uid=?",
                                   (uid,)).fetchone()
        return dict(zip(("uid", "ts", "lang", "subject", "email"), row)) if row else None

    def form_events(self, since: str, until: str) -> dict[str, list[tuple[str, str, str | None]]]:
        """form id -> its (kind, ISO time, lang) events, for the sessions opened in [since, until)."""
        rows = self._conn().execute(
            "SELECT e.form_id, e.kind, e.ts, e.lang FROM contact_events e WHERE e.form_id IN"
            " (SELECT form_id FROM contact_events WHERE kind='open' AND ts >= ? AND ts < ?) ORDER BY e.ts",
            (since, until)).fetchall()
        out: dict[str, list] = {}
        for form_id, kind, ts, lang in rows:
            out.setdefault(form_id, []).append((kind, ts, lang))
        return out

    # --- the outbox -------------------------------------------------------------

    def claim_due(self, at: dt.datetime, lease_seconds: float, limit: int = 20) -> list[Delivery]:
        """Undelivered rows due by `at` that no other sender holds, leased to this one."""
        now_s, until = _iso(at), _iso(at + dt.timedelta(seconds=lease_seconds))
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute("SELECT id, payload, attempts FROM outbox WHERE delivered IS NULL AND next_at <= ?"
                                " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?",
                                (now_s, now_s, limit)).fetchall()
            conn.executemany("UPDATE outbox SET lease_until=? WHERE id=?", [(until, r[0]) for r in rows])
        return [Delivery(*r) for r in rows]

    def delivered(self, outbox_id: int, at: dt.datetime):
        with self._conn() as c:
            c.execute("UPDATE outbox SET delivered=?, lease_until=NULL, attempts=attempts+1, last_error=NULL"
                      " WHERE id=?", (_iso(at), outbox_id))

    def failed(self, outbox_id: int, error: str, retry_at: dt.datetime):
        with self._conn() as c:
            c.execute("UPDATE outbox SET attempts=attempts+1, next_at=?, lease_until=NULL, last_error=? WHERE id=?",
                      (_iso(retry_at), error[:500], outbox_id))

    def next_due(self) -> str | None:
        """When the earliest undelivered row is due (ISO), or None when all were delivered."""
        row = self._conn().execute("SELECT min(next_at) FROM outbox WHERE delivered IS NULL").fetchone()
        return row[0]

    def outbox_counts(self) -> dict[str, int]:
        pending, delivered = self._conn().execute(
            "SELECT sum(delivered IS NULL), sum(delivered IS NOT NULL) FROM outbox").fetchone()
        return {"pending": pending or 0, "delivered": delivered or 0}
