"""The shared database (kb.storage): migrations build exactly schema.py, files of the sqlite3 era upgrade in
place with nothing lost, SQLite files stay private, and the repositories answer the same on every engine."""

import logging
import multiprocessing
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import func, select

from cli.main import cli
from kb.errors import KBError
from kb.storage import Database, copy, migrate, open_database, sqlite_url
from kb.storage.accounts import Accounts
from kb.storage.activity import Activity
from kb.storage.schema import metadata
from tests.legacy_activity import SEARCHES, TOKEN, dump, open_and_log, sqlite3_era_file
from tests.support import PASSWORD, activity_at, run_sql


def schema_differences(db: Database, *, sqlite3_era: bool = False) -> list:
    """What Alembic's autogenerate would change to make the database match schema.py (nothing, we hope).

    A file of the sqlite3 era declared its keys `INTEGER PRIMARY KEY` and `TEXT PRIMARY KEY`, which SQLite
    reports as nullable (the rowid never is NULL; the users' name is always set by the code): the only
    difference such a file may keep."""
    with db.read() as conn:
        found = compare_metadata(MigrationContext.configure(conn), metadata)
    if sqlite3_era:
        keys = {(t.name, c.name) for t in metadata.tables.values() for c in t.primary_key}
        found = [d for d in found if not (isinstance(d, list) and d[0][0] == "modify_nullable"
                                          and d[0][2:4] in keys)]
    return found


def tables_and_indexes(path) -> dict:
    conn = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = {t: [(r[1], r[2]) for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        out["indexes"] = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
        return out
    finally:
        conn.close()


# --- migrations ---------------------------------------------------------------------

def test_the_migrations_form_one_chain_and_build_exactly_schema_py(tmp_path):
    db = open_database(sqlite_url(tmp_path / "new.sqlite"))
    assert migrate.current(db) == migrate.head()
    assert schema_differences(db) == []


def test_the_revisions_load_in_a_fresh_interpreter_as_kb_db_upgrade_does():
    """A revision must import what it uses: under pytest, schema.py has long imported the SQLite dialect."""
    code = "from kb.storage import migrate; print(migrate.head())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == migrate.head()


@pytest.mark.parametrize("version", [0, 1])
def test_a_file_of_the_sqlite3_era_is_upgraded_in_place_with_nothing_lost(tmp_path, version):
    path = sqlite3_era_file(tmp_path / "activity.sqlite", version)
    before = dump(path, version)
    inode = path.stat().st_ino
    act = activity_at(path)
    assert path.stat().st_ino == inode  # the same file: no copy, nothing beside it
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("activity.sqlite")) == []
    assert dump(path, version) == before and all(before.values())  # every row of every table, as it was
    answered = [(None,)] * 4 if version == 0 else [(int(s[2] > 0),) for s in SEARCHES]  # not recorded in v0
    assert run_sql(act, "SELECT answered FROM searches ORDER BY id") == answered
    assert migrate.current(act.db) == migrate.head()
    assert run_sql(act, "PRAGMA integrity_check") == [("ok",)]
    assert schema_differences(act.db, sqlite3_era=True) == []
    accounts = Accounts(act.db)  # the old accounts still work, and new searches record whether they answered
    assert accounts.check_user("olga", PASSWORD) == "agent" and accounts.check_token(TOKEN) == "helpdesk"
    new = act.log_search("qwerty", "en", "en", "public", "help_center", [("cdn-502", "en", 0.2)], 9, answered=False)
    assert run_sql(act, "SELECT answered FROM searches WHERE id = ?", (new,)) == [(0,)]


def test_an_upgraded_file_has_the_tables_columns_and_indexes_of_a_new_one(tmp_path):
    upgraded = sqlite3_era_file(tmp_path / "old.sqlite")
    activity_at(upgraded)
    activity_at(tmp_path / "new.sqlite")
    assert tables_and_indexes(upgraded) == tables_and_indexes(tmp_path / "new.sqlite")


def test_opening_an_upgraded_file_again_changes_nothing(tmp_path):
    path = sqlite3_era_file(tmp_path / "activity.sqlite")
    activity_at(path).log_search("q", "en", "en", "public", "api", [], 0, answered=False)
    before = dump(path)
    act = activity_at(path)
    assert dump(path) == before and migrate.current(act.db) == migrate.head()


BROKEN = '''
from alembic import op
import sqlalchemy as sa

revision = "9999"
down_revision = "{head}"


def upgrade():
    op.add_column("searches", sa.Column("extra", sa.Integer))
    op.add_column("no_such_table", sa.Column("x", sa.Integer))
'''


def test_a_failed_upgrade_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = sqlite3_era_file(tmp_path / "activity.sqlite")
    before, columns = dump(path), tables_and_indexes(path)
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.SCRIPT_LOCATION, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_broken.py").write_text(BROKEN.format(head=migrate.head()))
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", scripts)
    with pytest.raises(KBError, match="(?s)9999 failed.*left untouched"):
        activity_at(path)
    assert tables_and_indexes(path) == columns  # 0001's `answered` and the first column of 9999 undone too
    assert dump(path) == before and "alembic_version" not in columns


def test_a_database_from_a_newer_release_is_refused_with_what_to_do(tmp_path):
    act = activity_at(tmp_path / "activity.sqlite")
    run_sql(act, "UPDATE alembic_version SET version_num = 'f00d'")
    with pytest.raises(KBError, match="revision f00d, which this polykb release does not know"):
        activity_at(tmp_path / "activity.sqlite")


def test_servers_starting_together_upgrade_an_old_file_once(tmp_path):
    path = sqlite3_era_file(tmp_path / "activity.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=open_and_log, args=(path,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    act = activity_at(path)
    assert run_sql(act, "SELECT count(*) FROM searches WHERE query = 'from a worker' AND answered = 0") == [(4,)]
    assert run_sql(act, "SELECT count(*) FROM alembic_version") == [(1,)]


def test_kb_db_upgrade_and_status_say_where_the_schema_is(tmp_path):
    path = sqlite3_era_file(tmp_path / "activity.sqlite")
    runner = CliRunner()
    status = runner.invoke(cli, ["db", "status", "--index", str(tmp_path)])
    assert status.exit_code == 0 and "revision none" in status.output and "run `kb db upgrade`" in status.output
    upgrade = runner.invoke(cli, ["db", "upgrade", "--index", str(tmp_path)])
    assert upgrade.exit_code == 0 and f"revision {migrate.head()} (was empty)" in upgrade.output
    assert "up to date" in runner.invoke(cli, ["db", "status", "--database-url", sqlite_url(path)]).output


# --- the SQLite file ------------------------------------------------------------------

def test_a_new_sqlite_file_and_its_wal_and_shm_are_private(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "umask", os.umask)  # restored below even if the test fails
    old = os.umask(0o022)  # the usual umask, which made the sqlite3-era file 0644
    try:
        act = activity_at(tmp_path / "kb" / "activity.sqlite")
        act.log_view("a", "en", "en", "public")
        with act.db.read() as conn:  # a reader holds the WAL open, so -wal and -shm exist now
            conn.exec_driver_sql("SELECT count(*) FROM views").fetchall()
            files = sorted((tmp_path / "kb").iterdir())
            assert [p.name for p in files] == ["activity.sqlite", "activity.sqlite-shm", "activity.sqlite-wal"]
            assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}
    finally:
        os.umask(old)


def test_a_sqlite_file_readable_by_others_is_reported_at_start(tmp_path, caplog):
    path = tmp_path / "activity.sqlite"
    activity_at(path)
    caplog.set_level(logging.WARNING, logger="kb.storage")
    activity_at(path)
    assert not caplog.records
    path.chmod(0o644)
    activity_at(path)
    assert any(str(path) in r.getMessage() and "chmod 600" in r.getMessage() for r in caplog.records)


def test_a_database_url_that_is_neither_sqlite_nor_postgresql_is_refused(tmp_path):
    with pytest.raises(KBError, match="SQLite .* or PostgreSQL"):
        Database("mysql://kb@localhost/kb")
    with pytest.raises(KBError, match="not valid"):
        Database("not a url")


# --- both engines ---------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def url(request, tmp_path) -> str:
    """An empty database on each engine: a new SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "activity.sqlite")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def upgraded():
    """upgraded(url): the database at `url` with its schema made, as `kb db upgrade` does, then opened as
    `kb serve` does; closed after the test (psycopg warns about connections left to the garbage collector)."""
    opened = []

    def open_(url: str) -> Database:
        fresh = Database(url)
        migrate.upgrade(fresh)
        fresh.close()
        opened.append(open_database(url))
        return opened[-1]

    yield open_
    for db in opened:
        db.close()


def count(db: Database, table: str) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar_one()


def test_on_both_engines_the_chain_builds_exactly_schema_py(url, upgraded):
    db = upgraded(url)
    assert migrate.current(db) == migrate.head() and schema_differences(db) == []


def test_on_both_engines_what_is_logged_is_what_the_reports_read(url, upgraded):
    act = Activity(upgraded(url))
    since = "2000-01-01"
    clicked = act.log_search("ошибка 502", "ru", "ru", "public", "help_center", [("cdn-502", "ru", 0.9),
                                                                                 ("cdn-purge", "en", 0.5)], 2)
    act.log_click(clicked, "cdn-502", "ru", 1)
    act.log_search("Ошибка 502 ", "ru", "ru", "public", "help_center", [("cdn-502", "ru", 0.9)], 1)  # not clicked
    act.log_search("crypto", "en", "en", "public", "api", [("billing", "en", 0.2)], 1, answered=False)
    act.log_search("zzz", "en", "en", "public", "api", [], 0, answered=False)
    assert act.failed_searches(since) == [("crypto", "en", 1, 1), ("zzz", "en", 1, 1), ("Ошибка 502 ", "ru", 1, 0)]
    assert act.shown_by_answered_searches(since) == {"cdn-502", "cdn-purge"}  # not billing: no answer
    for lang in ("ru", "ru", "en"):
        act.log_view("cdn-502", lang, lang, "public")
    act.log_view("billing", "en", "en", "public")
    act.log_view("internal-runbook", "en", "en", "internal")
    assert act.viewed_articles(since) == {"cdn-502", "billing", "internal-runbook"}
    assert act.popular("en") == [("cdn-502", 4), ("billing", 2)]  # an English view counts twice for English readers
    assert act.traffic(since) == {"cdn-502": 5, "cdn-purge": 1, "billing": 2, "internal-runbook": 1}
    assert sorted(act.demand(since)) == sorted([("cdn-502", "ru", 2), ("cdn-purge", "ru", 1), ("billing", "en", 1),
                                                ("cdn-502", "ru", 2), ("cdn-502", "en", 1), ("billing", "en", 1),
                                                ("internal-runbook", "en", 1)])
    first = act.add_feedback("cdn-502", "ru", False, "  шаги устарели ")
    act.add_feedback("cdn-502", "ru", True, None)
    second = act.add_feedback("cdn-502", "ru", False, None)
    assert act.add_feedback_reason(second, "нет скриншотов") and not act.add_feedback_reason(first, "overwrite")
    assert act.feedback_votes(since) == [("cdn-502", "ru", 1, 3, ["шаги устарели", "нет скриншотов"])]
    act.add_mark("cdn-502", "ru", "not_relevant", "ticket", "olga")
    act.add_mark("cdn-502", None, "solved", "ticket", "olga")
    assert act.mark_counts(since) == {("cdn-502", "ru"): (1, 0), ("cdn-502", ""): (0, 1)}
    assert act.failed_searches("2999-01-01") == [] and act.mark_counts("2999-01-01") == {}


def test_on_both_engines_accounts_and_tokens_work(url, upgraded):
    accounts = Accounts(upgraded(url))
    accounts.add_user("olga", PASSWORD, "agent")
    accounts.add_user("olga", PASSWORD + "!", "writer")  # saved again: new password and role
    assert accounts.check_user("olga", PASSWORD) is None and accounts.check_user("olga", PASSWORD + "!") == "writer"
    assert accounts.user_role("olga") == "writer" and accounts.user_role("nobody") is None
    token = accounts.add_token("helpdesk")
    assert accounts.check_token(token) == "helpdesk"
    assert accounts.revoke_token("helpdesk") == 1 and accounts.check_token(token) is None
    assert count(accounts.db, "users") == 1 and count(accounts.db, "tokens") == 1


def test_on_both_engines_concurrent_writers_lose_no_row(url, upgraded):
    act = Activity(upgraded(url))

    def write(worker):
        for i in range(40):
            act.log_search(f"q {worker} {i}", "en", "en", "public", "api", [("a", "en", 0.5), ("b", "en", 0.4)], 2)
            act.add_feedback(f"a-{worker}", "en", i % 2 == 0, f"reason {i}")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(write, range(6)))
    assert (count(act.db, "searches"), count(act.db, "shown"), count(act.db, "feedback")) == (240, 480, 240)


# --- PostgreSQL: upgraded on purpose, restarts, and the move from SQLite -------------------

def test_after_postgresql_restarts_no_request_fails_on_a_cut_pooled_connection(postgres, postgres_url, upgraded):
    """Every pooled connection is cut by the restart; each is pinged as it is drawn and replaced, on the hot
    DBAPI path (`Database.cursor`: token checks, search logs) and on SQLAlchemy's Connection alike."""
    db = upgraded(postgres_url)
    accounts, act = Accounts(db), Activity(db)
    token = accounts.add_token("helpdesk")
    assert act.log_search("before the restart", "en", "en", "public", "api", [], 0) > 0
    with db.cursor(write=False), db.cursor(write=False), db.cursor(write=False):
        pass  # three connections in the pool, all to be cut
    assert db.engine.pool.checkedin() == 3
    postgres.restart()
    assert act.log_search("after the restart", "en", "en", "public", "api", [], 0) > 0  # a write, first
    assert [accounts.check_token(token) for _ in range(3)] == ["helpdesk"] * 3  # reads
    with db.write() as conn:  # and a Core transaction
        assert conn.exec_driver_sql("SELECT count(*) FROM searches").scalar() == 2


def test_postgresql_behind_stops_the_start_with_what_to_run(postgres_url, tmp_path, upgraded):
    with pytest.raises(KBError, match=r"none \(no polykb tables yet\).*run `kb db upgrade`"):
        open_database(postgres_url)
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", postgres_url, "--index", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"schema at revision {migrate.head()} (was empty)" in result.output
    assert migrate.current(upgraded(postgres_url)) == migrate.head()
    assert not (tmp_path / "activity.sqlite").exists()  # the URL, not the index folder's file


def test_the_app_on_postgresql_logs_there(postgres_url, make_app, upgraded):
    db = upgraded(postgres_url)
    app = make_app(DATABASE_URL=postgres_url)
    try:
        assert app.test_client().get("/en/search?q=cdn+502").status_code == 200
    finally:
        ext = app.extensions["polykb"]
        if ext.get("follower"):
            ext["follower"].stop()  # the replica's generation poller
        ext["db"].close()
    assert count(db, "searches") == 1


def test_kb_db_copy_moves_every_row_to_postgresql_and_new_ids_follow(tmp_path, postgres_url, upgraded, monkeypatch):
    path = sqlite3_era_file(tmp_path / "activity.sqlite", 1)
    source = activity_at(path)
    for i in range(250):
        source.log_view(f"a-{i % 7}", "en", "en", "public")
    with source.db.write() as c:  # binary rows too: generation files and cached embeddings
        c.execute(metadata.tables["generation_files"].insert(),
                  [{"generation": "gen-000001", "file": "kb.sqlite", "part": p, "data": bytes([p]) * 700}
                   for p in range(5)])
        c.execute(metadata.tables["embeddings"].insert(),
                  [{"model": "e5", "key": bytes([k]) * 32, "vector": b"\x00\x01" * 384} for k in range(30)])
    monkeypatch.setattr(copy, "BATCH", 100)  # several batches, some cut by rows and some by bytes
    monkeypatch.setattr(copy, "BATCH_BYTES", 2000)
    before = {t: count(source.db, t) for t in metadata.tables}
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "copy", "--index", str(tmp_path), "--to", postgres_url])
    assert result.exit_code == 0, result.output
    assert "row counts match" in result.output
    target = upgraded(postgres_url)
    assert {t: count(target, t) for t in metadata.tables} == before
    with source.db.read() as a, target.read() as b:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            assert a.execute(select(table).order_by(*order)).all() == b.execute(select(table).order_by(*order)).all()
    act = Activity(target)  # ids continue after the copied ones
    assert act.log_search("after the move", "en", "en", "public", "api", [], 0) == before["searches"] + 1
    assert Accounts(target).check_token(TOKEN) == "helpdesk"

    again = runner.invoke(cli, ["db", "copy", "--index", str(tmp_path), "--to", postgres_url])
    assert again.exit_code == 1 and "already holds rows" in again.output and "--replace" in again.output
    assert count(target, "searches") == before["searches"] + 1  # refused: untouched
    replaced = runner.invoke(cli, ["db", "copy", "--index", str(tmp_path), "--to", postgres_url, "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert count(target, "searches") == before["searches"]
