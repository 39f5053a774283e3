"""Activity files as the sqlite3-era code wrote them (kb/activity.py before kb.storage), for the upgrade tests.

`tests/data/activity_v0.sql` is its schema before `searches.answered` (PRAGMA
user_version 0), `activity_v1.sql` the schema of its last release (user_version 1).
A file holds a row in every table: a help-center search clicked, one not clicked,
an API search, and one with no result, plus feedback, a mark, a user and a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import werkzeug.security

DATA = Path(__file__).resolve().parent / "data"
TABLES = ("searches", "shown", "clicks", "views", "feedback", "agent_marks", "users", "tokens")
TOKEN = "kb_old-release-token"
SEARCHES = [("ошибка 502", "help_center", 12, "cdn-502"), ("obs 推流 密钥", "help_center", 3, "live-obs"),
            ("reset password", "api", 5, "account-reset-password"), ("crypto payments", "help_center", 0, None)]


def ts(days_ago=1) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)).isoformat(timespec="seconds")


def sqlite3_era_file(path: Path, version: int = 0) -> Path:
    """An activity file at `version` (0 or 1) in WAL mode with a row in every table; version 1 files record
    `answered` (the no-result search did not answer, the others did)."""
    from tests.support import PASSWORD  # here, not at the top: spawned workers import this module, kept light

    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript((DATA / f"activity_v{version}.sql").read_text(encoding="utf-8"))
    with conn:
        for query, route, results, top in SEARCHES:
            row = {"ts": ts(), "query": query, "lang": "ru", "ui_lang": "ru", "audience": "public", "route": route,
                   "results": results, "top_score": 0.8 if top else None, "top_id": top}
            if version:
                row["answered"] = int(results > 0)
            sid = conn.execute(f"INSERT INTO searches ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                               tuple(row.values())).lastrowid
            if top:
                conn.execute("INSERT INTO shown VALUES (?,?,?,?)", (sid, top, "en", 1))
        conn.execute("INSERT INTO clicks (ts, search_id, article_id, lang, rank) VALUES (?,?,?,?,?)",
                     (ts(), 1, "cdn-502", "ru", 1))
        conn.execute("INSERT INTO views (ts, article_id, lang, ui_lang, audience) VALUES (?,?,?,?,?)",
                     (ts(), "cdn-502", "ru", "ru", "public"))
        conn.execute("INSERT INTO feedback (ts, article_id, lang, helpful, reason, source) VALUES (?,?,?,?,?,?)",
                     (ts(), "cdn-502", "ru", 0, "не помогло", "help_center"))
        conn.execute("INSERT INTO agent_marks (ts, article_id, lang, mark, query, user) VALUES (?,?,?,?,?,?)",
                     (ts(), "cdn-502", "ru", "solved", "клиент пишет про 502", "olga"))
        conn.execute("INSERT INTO users VALUES (?,?,?,?)",
                     ("olga", werkzeug.security.generate_password_hash(PASSWORD), "agent", ts()))
        conn.execute("INSERT INTO tokens (name, token_hash, created) VALUES (?,?,?)",
                     ("helpdesk", hashlib.sha256(TOKEN.encode()).hexdigest(), ts()))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    conn.close()
    return path


def open_and_log(path: Path):
    """A server process starting on the file: opening it migrates it; then one search is logged."""
    from kb.storage import open_database, sqlite_url
    from kb.storage.activity import Activity

    Activity(open_database(sqlite_url(path))).log_search("from a worker", "en", "en", "public", "api", [], 0,
                                                         answered=False)


def dump(path: Path, version: int = 0) -> dict:
    """Every row of every table, in the columns the `version` file had."""
    schema = sqlite3.connect(":memory:")
    schema.executescript((DATA / f"activity_v{version}.sql").read_text(encoding="utf-8"))
    columns = {t: [r[1] for r in schema.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    conn = sqlite3.connect(str(path))
    try:
        return {t: conn.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY rowid").fetchall()
                for t, cols in columns.items()}
    finally:
        conn.close()
