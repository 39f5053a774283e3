"""Answered or not in the activity log: old files upgraded in place, and what the `gaps` and `unused` reports
and `kb search` make of it.

The "old release" below is the activity schema as it was before `searches.answered` (copied from
kb/activity.py at commit caaa352): a file it wrote must open with today's code, upgraded in place, nothing lost.
"""

import datetime as dt
import hashlib
import json
import multiprocessing
import sqlite3

import pytest
from click.testing import CliRunner
import werkzeug.security

import kb.activity
from kb import reports
from kb.activity import Activity
from kb.cli import cli
from kb.errors import KBError
from kb.search import Searcher
from tests.refusals import refuse_searches
from tests.support import PASSWORD, SMALL_KB

OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, query TEXT NOT NULL, lang TEXT, ui_lang TEXT,
    audience TEXT NOT NULL, route TEXT NOT NULL, results INTEGER NOT NULL, top_score REAL, top_id TEXT);
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
OLD_TABLES = ("searches", "shown", "clicks", "views", "feedback", "agent_marks", "users", "tokens")
TOKEN = "kb_old-release-token"
TODAY = dt.date.today()


def ts(days_ago=1) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)).isoformat(timespec="seconds")


def old_release_file(path):
    """An activity file as the previous release wrote it (WAL mode, user_version 0), with a row in every table:
    a help-center search clicked, one not clicked, an API search, and one with no result."""
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    with conn:
        conn.executescript(OLD_SCHEMA)
        search = ("INSERT INTO searches (ts, query, lang, ui_lang, audience, route, results, top_score, top_id)"
                  " VALUES (?,?,?,?,?,?,?,?,?)")
        for i, (query, route, results, top) in enumerate([
                ("ошибка 502", "help_center", 12, "cdn-502"), ("obs 推流 密钥", "help_center", 3, "live-obs"),
                ("reset password", "api", 5, "account-reset-password"), ("crypto payments", "help_center", 0, None)]):
            sid = conn.execute(search, (ts(), query, "ru", "ru", "public", route, results, 0.8 if top else None,
                                        top)).lastrowid
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
    conn.close()
    return path


def old_columns() -> dict[str, list[str]]:
    conn = sqlite3.connect(":memory:")
    conn.executescript(OLD_SCHEMA)
    return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in OLD_TABLES}


def dump(path) -> dict:
    """Every row of every table of the previous release, in its columns."""
    conn = sqlite3.connect(str(path))
    try:
        return {t: conn.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY rowid").fetchall()
                for t, cols in old_columns().items()}
    finally:
        conn.close()


def searches(path) -> list[tuple]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("SELECT * FROM searches ORDER BY id").fetchall()
    finally:
        conn.close()


def table_columns(path) -> dict:
    conn = sqlite3.connect(str(path))
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    out = {t: [(r[1], r[2], r[3]) for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    out["indexes"] = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"
                                                       " AND sql IS NOT NULL"))
    conn.close()
    return out


def user_version(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


# --- the upgrade ------------------------------------------------------------------

def test_an_activity_file_from_the_previous_release_is_upgraded_in_place_with_nothing_lost(tmp_path):
    path = old_release_file(tmp_path / "activity.sqlite")
    before = dump(path)
    inode = path.stat().st_ino
    act = Activity(path)
    assert path.stat().st_ino == inode  # the same file: no copy, nothing beside it
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("activity.sqlite")) == []
    assert dump(path) == before and all(before.values())  # every row of every table, as it was
    assert act.execute("SELECT answered FROM searches ORDER BY id") == [(None,)] * 4  # not recorded back then
    assert user_version(path) == kb.activity.VERSION
    assert act.execute("PRAGMA integrity_check") == [("ok",)]
    # the old accounts still work, and new searches record whether they answered
    assert act.check_user("olga", PASSWORD) == "agent" and act.check_token(TOKEN) == "helpdesk"
    new = act.log_search("qwerty", "en", "en", "public", "help_center", [("cdn-502", "en", 0.2)], 9, answered=False)
    assert act.execute("SELECT answered FROM searches WHERE id = ?", (new,)) == [(0,)]


def test_an_upgraded_file_has_the_same_tables_columns_and_indexes_as_a_new_one(tmp_path):
    upgraded = old_release_file(tmp_path / "old.sqlite")
    Activity(upgraded)
    Activity(tmp_path / "new.sqlite")
    assert table_columns(upgraded) == table_columns(tmp_path / "new.sqlite")
    assert user_version(upgraded) == user_version(tmp_path / "new.sqlite") == kb.activity.VERSION


def test_opening_an_upgraded_file_again_changes_nothing(tmp_path):
    path = old_release_file(tmp_path / "activity.sqlite")
    Activity(path).log_search("q", "en", "en", "public", "api", [], 0, answered=False)
    before = searches(path)
    Activity(path)
    assert searches(path) == before and user_version(path) == kb.activity.VERSION


def test_a_failed_upgrade_leaves_the_old_file_as_it_was(tmp_path, monkeypatch):
    path = old_release_file(tmp_path / "activity.sqlite")
    before = dump(path)
    broken = (*kb.activity.MIGRATIONS, "ALTER TABLE no_such_table ADD COLUMN x INTEGER")
    monkeypatch.setattr(kb.activity, "MIGRATIONS", broken)
    monkeypatch.setattr(kb.activity, "VERSION", len(broken))
    with pytest.raises(KBError, match="left untouched"):
        Activity(path)
    assert "answered" not in [c[0] for c in table_columns(path)["searches"]]  # the first migration undone too
    assert user_version(path) == 0 and dump(path) == before


def _open(path):
    Activity(path).log_search("from a worker", "en", "en", "public", "api", [], 0, answered=False)


def test_servers_starting_together_upgrade_an_old_file_once(tmp_path):
    path = old_release_file(tmp_path / "activity.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open, args=(path,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    act = Activity(path)
    assert act.execute("SELECT count(*) FROM searches WHERE query = 'from a worker' AND answered = 0") == [(4,)]
    assert user_version(path) == kb.activity.VERSION


# --- the reports ------------------------------------------------------------------

@pytest.fixture
def ctx(make_fake_index):
    """Reports over SMALL_KB (fake embedder) with an activity log the previous release started."""
    index = make_fake_index(SMALL_KB)[1]
    assert not (index / "activity.sqlite").exists()
    old_release_file(index / "activity.sqlite")
    s = Searcher(index)
    return reports.Context(store=s.store, activity=Activity(index / "activity.sqlite"), today=TODAY,
                           embedder=s.embedder, searcher=s)


def gaps(ctx) -> dict[str, dict]:
    return {q: row for row in reports.run("gaps", ctx) for q in row["examples"].split(" | ")}


def test_searches_from_before_answered_was_recorded_fail_as_they_did(ctx):
    failed = gaps(ctx)
    assert "ошибка 502" not in failed  # clicked
    assert "reset password" not in failed  # an API search with results: nobody's clicks to count
    assert failed["obs 推流 密钥"]["unanswered"] == 0  # shown, not clicked
    assert failed["crypto payments"]["unanswered"] == 1  # no result at all


def test_searches_that_did_not_answer_are_gaps_whatever_the_route_and_counted_as_not_answered(ctx):
    act = ctx.activity
    for route in ("api", "help_center"):
        sid = act.log_search("kubernetes helm chart", "en", "en", "public", route,
                             [("cdn-502", "en", 0.3)], 6, answered=False)
    act.log_click(sid, "cdn-502", "en", 1)  # a closest article opened: still no answer
    act.log_search("password reset link", "en", "en", "public", "api", [("account-reset-password", "en", 0.9)], 4)
    failed = gaps(ctx)
    assert failed["kubernetes helm chart"]["volume"] >= 2 and failed["kubernetes helm chart"]["unanswered"] >= 2
    assert "password reset link" not in failed


def test_an_article_shown_only_as_a_closest_article_is_still_unused(ctx):
    act = ctx.activity
    assert "billing-invoices" in {r["id"] for r in reports.run("unused", ctx)}
    act.log_search("qwerty", "ru", "ru", "public", "help_center", [("billing-invoices", "ru", 0.2)], 7, answered=False)
    assert "billing-invoices" in {r["id"] for r in reports.run("unused", ctx)}
    act.log_search("счёт за месяц", "ru", "ru", "public", "help_center", [("billing-invoices", "ru", 0.9)], 3)
    assert "billing-invoices" not in {r["id"] for r in reports.run("unused", ctx)}


def test_shown_by_a_search_from_before_answered_was_recorded_counts_as_shown(ctx):
    unused = {r["id"] for r in reports.run("unused", ctx)}
    assert "account-reset-password" not in unused and "live-obs" not in unused  # shown by the old searches


# --- kb search ----------------------------------------------------------------------

@pytest.fixture
def refuse(monkeypatch) -> set[str]:
    return refuse_searches(monkeypatch)


def test_search_json_says_whether_it_answered(make_fake_index, refuse):
    index = str(make_fake_index(SMALL_KB)[1])
    refuse.add("zzqx wvvq")
    runner = CliRunner()
    answered = json.loads(runner.invoke(cli, ["search", "502 bad gateway", "--index", index, "--json"]).output)
    refused = json.loads(runner.invoke(cli, ["search", "zzqx wvvq", "--index", index, "--json"]).output)
    assert answered["answered"] is True and refused["answered"] is False
    plain = runner.invoke(cli, ["search", "zzqx wvvq", "--index", index]).output.splitlines()
    assert plain[1].startswith("no answer: ") and len(plain) > 2  # the closest articles follow


def test_batch_search_puts_answered_beside_id_and_results_on_every_line(make_fake_index, refuse, tmp_path):
    index = str(make_fake_index(SMALL_KB)[1])
    refuse.add("zzqx wvvq")
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "text": "502 bad gateway"}\n{"id": "b", "text": "zzqx wvvq"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["search", "--queries", str(queries), "--index", index])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [list(line) for line in lines] == [["id", "answered", "results"]] * 2
    assert [(line["id"], line["answered"]) for line in lines] == [("a", True), ("b", False)]
