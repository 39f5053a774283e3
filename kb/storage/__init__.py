"""The shared state of polykb: activity, accounts (and what later modules add) in one database.

SQLite by default (`<index>/activity.sqlite`, today's file), PostgreSQL when
`KB_DATABASE_URL=postgresql://user:password@host/db` says so, through
SQLAlchemy Core and Alembic, so several replicas can share one database.
Nothing outside this package writes SQL for shared state: callers use the
repositories (`Activity(db)`, `Accounts(db)`, ...), each a small class of
named queries over the tables in `schema.py`.

    db = open_database(database_url(index_dir))   # migrates SQLite; checks PostgreSQL
    Activity(db).log_view("cdn-502", "en", "en", "public")

Opening a SQLite database creates it (mode 600), refuses an unreadable file
without touching it, warns when the file is readable by other users, and
upgrades the schema in place. PostgreSQL is upgraded by `kb db upgrade` only;
opening it when its schema is behind fails with that instruction.

How a module adds a table (or a column)
---------------------------------------
1. `schema.py`: append the `Table` to the one `metadata`, under a comment naming
   the repository module that owns it. Ids: `RowId`; times: Text holding `now()`.
2. An Alembic revision `migrations/versions/NNNN_what.py` (revision = "NNNN",
   the next number) creating exactly that: `op.create_table`, `op.add_column`,
   `op.create_index`; changing an existing column needs `op.batch_alter_table`
   (SQLite copies the table). Spell the columns out in the revision rather
   than importing schema.py, which moves on. Revisions form ONE linear chain:
   `down_revision` is the current head (`kb db status` shows it); after a
   rebase onto someone else's revision, re-point yours. tests/test_storage.py
   checks that the chain has one head and builds exactly `schema.py`.
3. A repository module here (`kb/storage/<area>.py`): a class taking the
   `Database`, with one method per question or write; `db.write()` for a
   transaction, `db.read()` for queries. Use SQLAlchemy Core expressions, not SQL
   strings, so the same code runs on both engines. Web code reaches it through
   a `get_<area>()` in web/services/resources.py. A write or read made on every request
   can go through `db.cursor()` with `db.sql(stmt)` instead (a pooled DBAPI
   cursor, SQL compiled once from the Core statement; see activity.log_search):
   SQLAlchemy's per-execute work costs more than a small SQLite insert
   (bench/storage.py).
4. Nothing else: `kb db copy` copies every table in schema.py, and
   tests/test_storage.py runs the chain on SQLite and on a real PostgreSQL.
"""

from __future__ import annotations

from kb.storage.database import DEFAULT_FILE, Database, database_url, now, sqlite_url, upsert

__all__ = ["DEFAULT_FILE", "Database", "database_url", "now", "open_database", "sqlite_url", "upsert"]


def open_database(url: str) -> Database:
    """Open the shared database with its schema up to date: migrated in place on SQLite, checked on PostgreSQL."""
    from kb.storage import migrate

    db = Database(url)
    try:
        if db.is_sqlite:
            db.check_readable()
            db.warn_if_readable_by_others()
            migrate.upgrade(db)
        else:
            migrate.check(db)
    except BaseException:
        db.close()
        raise
    return db
