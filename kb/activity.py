"""What people did: searches, results shown, clicks, views, feedback, agent marks; and accounts.

Kept in `<index>/activity.sqlite`, apart from the index generations, so it
survives re-indexing. WAL mode lets several server workers write at once
while reports read. No personal data: no IP addresses, no user agents; the
query text and article ids only (agents' names only on their own marks).

The file outlives releases, so its schema only grows by `MIGRATIONS`, applied
in place at open (`PRAGMA user_version` counts the ones applied). `SCHEMA` is
the schema of a new file; `SCHEMA` plus every migration must give the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from pathlib import Path

from .errors import KBError

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, query TEXT NOT NULL, lang TEXT, ui_lang TEXT,
    audience TEXT NOT NULL, route TEXT NOT NULL, results INTEGER NOT NULL, top_score REAL, top_id TEXT,
    answered INTEGER);
CREATE INDEX IF NOT EXISTS searches_ts ON searches(ts);
CREATE TABLE IF NOT EXISTS shown (
    search_id INTEGER NOT NULL, article_id TEXT NOT NULL, lang TEXT, rank INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS shown_article ON shown(article_id);
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, search_id INTEGER, article_id TEXT NOT NULL, lang TEXT, rank INTEGER);
CREATE TABLE IF NOT EXISTS views (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, article_id TEXT NOT NULL, lang TEXT NOT NULL, ui_lang TEXT,
    audience TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS views_article ON views(article_id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, article_id TEXT NOT NULL, lang TEXT NOT NULL,
    helpful INTEGER NOT NULL, reason TEXT, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agent_marks (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, article_id TEXT NOT NULL, lang TEXT, mark TEXT NOT NULL,
    query TEXT, user TEXT);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created TEXT NOT NULL,
    revoked TEXT);
"""
# Each entry upgrades a file from user_version i to i + 1, in one transaction with the version bump.
MIGRATIONS = (
    # 1: did the search answer (1) or show only its closest articles (0)? NULL: logged before this was recorded,
    # when every search with results was shown as answered.
    "ALTER TABLE searches ADD COLUMN answered INTEGER",
)
VERSION = len(MIGRATIONS)

ROLES = ("agent", "writer", "admin")
# where a search is shown to a person whose clicks we log: an unclicked search there is a failed one
CLICK_TRACKED_ROUTES = ("help_center",)
MARKS = ("solved", "not_relevant")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Activity:
    """One connection per thread to the activity database."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            _create_or_migrate(self.path)
            self._conn().execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError as e:
            # never recreate it: it holds feedback and search history nobody can rebuild
            raise KBError(f"activity database {self.path} is unreadable ({e}); it was left untouched. "
                          "Restore it from a backup, or move it aside to start a new one "
                          "(searches, feedback and accounts in it would be lost).") from None

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def execute(self, sql: str, params=()) -> list[tuple]:
        """Read helper for reports."""
        return self._conn().execute(sql, params).fetchall()

    # --- logging -----------------------------------------------------------

    def log_search(self, query: str, lang: str | None, ui_lang: str | None, audience: str, route: str,
                   results: list[tuple[str, str, float]], total: int, *, answered: bool = True) -> int:
        """Log one search and the results shown: (article id, lang, score) in rank order.

        `answered` False: the search found nothing likely to answer, and `results` are the closest
        articles shown as such (a failed search; they do not count as shown by a search in reports).
        """
        with self._conn() as c:
            top = results[0] if results else (None, None, None)
            cur = c.execute("INSERT INTO searches (ts, query, lang, ui_lang, audience, route, results, top_score,"
                            " top_id, answered) VALUES (?,?,?,?,?,?,?,?,?,?)",
                            (now(), query[:500], lang, ui_lang, audience, route, total, top[2], top[0],
                             int(bool(answered))))
            sid = cur.lastrowid
            c.executemany("INSERT INTO shown VALUES (?,?,?,?)",
                          [(sid, aid, lang_, i + 1) for i, (aid, lang_, _) in enumerate(results)])
        return sid

    def log_click(self, search_id: int | None, article_id: str, lang: str | None, rank: int | None):
        with self._conn() as c:
            c.execute("INSERT INTO clicks (ts, search_id, article_id, lang, rank) VALUES (?,?,?,?,?)",
                      (now(), search_id, article_id, lang, rank))

    def log_view(self, article_id: str, lang: str, ui_lang: str | None, audience: str):
        with self._conn() as c:
            c.execute("INSERT INTO views (ts, article_id, lang, ui_lang, audience) VALUES (?,?,?,?,?)",
                      (now(), article_id, lang, ui_lang, audience))

    def add_feedback(self, article_id: str, lang: str, helpful: bool, reason: str | None,
                     source: str = "visitor") -> int:
        with self._conn() as c:
            return c.execute("INSERT INTO feedback (ts, article_id, lang, helpful, reason, source) VALUES (?,?,?,?,?,?)",
                      (now(), article_id, lang, int(bool(helpful)), (reason or "").strip()[:1000] or None,
                       source)).lastrowid

    def add_feedback_reason(self, feedback_id: int, reason: str) -> bool:
        """What was missing, sent after the vote ("No", then the reason box); once per vote, never overwritten."""
        reason = (reason or "").strip()[:1000]
        if not reason:
            return False
        with self._conn() as c:
            return c.execute("UPDATE feedback SET reason=? WHERE id=? AND reason IS NULL", (reason, feedback_id)).rowcount > 0

    def add_mark(self, article_id: str, lang: str | None, mark: str, query: str | None, user: str | None):
        if mark not in MARKS:
            raise KBError(f"mark must be one of {list(MARKS)}, got {mark!r}")
        with self._conn() as c:
            c.execute("INSERT INTO agent_marks (ts, article_id, lang, mark, query, user) VALUES (?,?,?,?,?,?)",
                      (now(), article_id, lang, mark, (query or "")[:2000], user))

    # --- reading -----------------------------------------------------------

    def shown_by_answered_searches(self, since: str) -> set[str]:
        """Ids of articles shown as results of searches that answered, since `since` (ISO date).

        A search that showed results but did not answer (`answered` 0) showed its closest articles only:
        they were offered as "not quite", not found. Searches logged before `answered` was recorded
        count as answered when they had results.
        """
        return {r[0] for r in self.execute(
            "SELECT DISTINCT s.article_id FROM shown s JOIN searches q ON q.id = s.search_id"
            " WHERE q.ts >= ? AND q.results > 0 AND q.answered IS NOT 0", (since,))}

    def failed_searches(self, since: str, audience: str = "public", limit: int = 2000) -> list[tuple]:
        """(query, lang, count, unanswered count) of failed searches since `since`, the most repeated first.

        A search failed when it returned nothing, did not answer, or showed results in the help center
        and nobody clicked one. Repeats are the same text up to case and outer spaces.
        """
        tracked = ",".join("?" * len(CLICK_TRACKED_ROUTES))
        unanswered = "q.results = 0 OR q.answered IS 0"  # IS: 0 or 1, never NULL (rows from before `answered`)
        failed = (f"{unanswered} OR (q.route IN ({tracked}) AND NOT EXISTS"
                  " (SELECT 1 FROM clicks c WHERE c.search_id = q.id))")
        return self.execute(
            f"SELECT min(q.query), q.lang, count(*), sum({unanswered}) FROM searches q"
            f" WHERE q.ts >= ? AND q.audience = ? AND ({failed})"
            " GROUP BY lower(trim(q.query)), q.lang ORDER BY count(*) DESC, min(q.query) LIMIT ?",
            (since, audience, *CLICK_TRACKED_ROUTES, limit))

    # --- accounts ----------------------------------------------------------

    def add_user(self, name: str, password: str, role: str):
        from werkzeug.security import generate_password_hash

        if role not in ROLES:
            raise KBError(f"role must be one of {list(ROLES)}, got {role!r}")
        if len(password) < 8:
            raise KBError("password must be at least 8 characters")
        with self._conn() as c:
            c.execute("INSERT OR REPLACE INTO users VALUES (?,?,?,?)", (name, generate_password_hash(password), role, now()))

    def check_user(self, name: str, password: str) -> str | None:
        """The user's role if the password is right, else None."""
        from werkzeug.security import check_password_hash

        row = self._conn().execute("SELECT password_hash, role FROM users WHERE name=?", (name,)).fetchone()
        if row and check_password_hash(row[0], password):
            return row[1]
        return None

    def user_role(self, name: str) -> str | None:
        row = self._conn().execute("SELECT role FROM users WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def add_token(self, name: str) -> str:
        """Create an API token; only its hash is stored, so it is shown once."""
        token = "kb_" + secrets.token_urlsafe(32)
        with self._conn() as c:
            c.execute("INSERT INTO tokens (name, token_hash, created) VALUES (?,?,?)", (name, _token_hash(token), now()))
        return token

    def revoke_token(self, name: str) -> int:
        with self._conn() as c:
            return c.execute("UPDATE tokens SET revoked=? WHERE name=? AND revoked IS NULL", (now(), name)).rowcount

    def check_token(self, token: str) -> str | None:
        row = self._conn().execute("SELECT name FROM tokens WHERE token_hash=? AND revoked IS NULL",
                                   (_token_hash(token),)).fetchone()
        return row[0] if row else None


def _create_or_migrate(path: Path):
    """Create a new activity file at the current schema, or bring an older one up to it in place.

    One transaction with the write lock taken first (BEGIN IMMEDIATE): server processes starting
    together migrate once, and a migration that fails leaves the file as it was. A file from a newer
    release (a higher version) is left alone: migrations only add, so this code still reads and writes it.
    """
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            new = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='searches'").fetchone() is None
            for statement in _statements(SCHEMA):  # new tables and indexes; an index on a migrated column
                conn.execute(statement)             # belongs in its migration
            if new:
                conn.execute(f"PRAGMA user_version = {VERSION}")
            elif version < VERSION:
                for statement in MIGRATIONS[version:]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _token_hash(token: str) -> str:
    # Tokens are long random strings: a plain SHA-256 is enough and allows lookup by hash.
    return hashlib.sha256(token.encode()).hexdigest()
