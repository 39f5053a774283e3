"""A `Database` opened from a URL: the engine, its connections, and the SQLite file's safety.

SQLite (the default) is one file in the index folder, in WAL mode so several
server threads and processes write at once while reports read; it holds
password and token hashes and pasted ticket text, so it is created mode 600
(its -wal and -shm files take the mode of the database file) and a wider
file is reported at start. PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Table, bindparam, create_engine, event, exc, insert
from sqlalchemy.engine import URL, make_url

from kb import settings
from kb.errors import KBError

log = logging.getLogger(__name__)

DEFAULT_FILE = "activity.sqlite"


def now() -> str:
    """The time stamps every table keeps: ISO-8601 UTC to the second, which sorts as text on both engines."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def database_url(index_dir: Path | str, url: str | None = None) -> str:
    """The URL to open: `url` if given, else $KB_DATABASE_URL, else the SQLite file in the index folder."""
    return url or settings.current()["DATABASE_URL"] or sqlite_url(Path(index_dir) / DEFAULT_FILE)


def sqlite_url(path: Path | str) -> str:
    return URL.create("sqlite", database=str(Path(path).resolve())).render_as_string()


class Database:
    """One engine (a pool of connections) on the shared database; repositories take it.

    `write()` is a transaction committed when the block ends (rolled back on an
    exception); `read()` a connection for queries. Open it with
    `kb.storage.open_database`, which also brings the schema up to date.
    """

    def __init__(self, url: str):
        try:
            self.url = _normalise(make_url(url))
        except exc.ArgumentError as e:
            raise KBError(f"database URL {url!r} is not valid ({e}); use sqlite:///path/to/file.sqlite or "
                          "postgresql://user:password@host:5432/dbname") from None
        self.path = _sqlite_path(self.url)
        if self.path is not None:
            _create_private(self.path)
        # A pooled PostgreSQL connection is pinged as it is taken from the pool (`cursor()` too: raw_connection
        # goes through the same checkout), so after a server restart or failover a cut connection is replaced
        # there rather than failing the request that drew it. The ping is one more round trip per checkout;
        # a SQLite file's connections cannot go stale, so they are never pinged.
        self.engine = _sqlite_engine(self.url) if self.is_sqlite else create_engine(self.url, pool_pre_ping=True)
        self._compiled: dict = {}

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def name(self) -> str:
        """The database for messages: the file, or the URL without its password."""
        return str(self.path) if self.path else self.url.render_as_string(hide_password=True)

    def write(self):
        return self.engine.begin()

    def read(self):
        return self.engine.connect()

    def sql(self, stmt) -> str:
        """`stmt` (a Core statement with named bind parameters) compiled once for this engine: SQL text taking a
        dict of parameters, for `cursor()`."""
        text = self._compiled.get(stmt)
        if text is None:
            text = self._compiled[stmt] = str(stmt.compile(dialect=self.engine.dialect))
        return text

    @contextmanager
    def cursor(self, write: bool = True):
        """A DBAPI cursor on a pooled connection: the hot path (the rows each request logs, the token each API
        call checks), where SQLAlchemy's per-execute work would cost more than the database does. A write is
        one transaction, committed when the block ends; a read runs without one (on PostgreSQL that saves the
        BEGIN and ROLLBACK round trips). The SQL comes from `sql(stmt)`, so it is still generated from
        schema.py for the engine at hand."""
        conn = self.engine.raw_connection()
        autocommit = not write and not self.is_sqlite
        if autocommit:
            conn.driver_connection.autocommit = True
        cur = conn.cursor()
        try:
            if write and self.is_sqlite:
                cur.execute("BEGIN")
            yield cur
            if write:
                conn.commit()
        except BaseException as e:
            if isinstance(e, self.engine.dialect.loaded_dbapi.Error) and \
                    self.engine.dialect.is_disconnect(e, conn.driver_connection, cur):
                conn.invalidate(e)  # not back into the pool
            else:
                conn.rollback()
            raise
        finally:
            cur.close()  # finalised: a half-read SELECT would hold SQLite's read snapshot
            driver = conn.driver_connection  # None once invalidated
            if autocommit and driver is not None and not driver.closed:
                driver.autocommit = False
            conn.close()  # back to the pool

    @contextmanager
    def exclusive(self):
        """A transaction that first takes the write lock on SQLite (BEGIN IMMEDIATE), so processes starting
        together migrate one after the other; PostgreSQL's DDL takes its own locks."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn

    def check_readable(self):
        """Fail with what to do when the SQLite file is not a database, never recreating it: it holds
        feedback and search history nobody can rebuild."""
        if not self.is_sqlite:
            return
        try:
            with self.read() as conn:
                conn.exec_driver_sql("PRAGMA quick_check").fetchone()
        except exc.DatabaseError as e:
            raise self.unreadable(e) from None

    def unreadable(self, e: Exception) -> KBError:
        return KBError(f"activity database {self.name} is unreadable ({getattr(e, 'orig', e)}); it was left "
                       "untouched. Restore it from a backup, or move it aside to start a new one "
                       "(searches, feedback and accounts in it would be lost).")

    def warn_if_readable_by_others(self):
        """Log a warning for each SQLite file (database, -wal, -shm) other local users can read or write."""
        if self.path is None:
            return
        for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            try:
                mode = stat.S_IMODE(path.stat().st_mode)
            except FileNotFoundError:
                continue
            if mode & 0o077:
                log.warning("%s is readable by other local users (mode %o): it holds password and token hashes "
                            "and pasted ticket text; run `chmod 600 %s`", path, mode, path)

    def close(self):
        self.engine.dispose()


def upsert(conn: Connection, table: Table, values: dict, key: tuple[str, ...]):
    """Insert a row, or update the row with the same `key` columns (INSERT ... ON CONFLICT on both engines)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(values)
    conn.execute(stmt.on_conflict_do_update(index_elements=list(key),
                                            set_={k: stmt.excluded[k] for k in values if k not in key}))


def insert_row(table: Table, returning=None):
    """INSERT of one row with a named parameter per column (the auto-numbered id excepted), for `Database.sql`."""
    stmt = insert(table).values({c.name: bindparam(c.name) for c in table.columns if c is not table.autoincrement_column})
    return stmt.returning(returning) if returning is not None else stmt


def _normalise(url: URL) -> URL:
    """postgresql:// and postgres:// mean psycopg 3 (SQLAlchemy's default driver would be psycopg2)."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise KBError(f"database URL {url.render_as_string(hide_password=True)!r}: polykb stores its data in "
                      "SQLite (sqlite:///file) or PostgreSQL (postgresql://...)")
    return url


def _sqlite_path(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _create_private(path: Path):
    """Create an empty database file mode 600 (an empty file is an empty SQLite database), before SQLite would
    create it 644; SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _sqlite_engine(url: URL):
    """WAL, a 30 s busy timeout, and transactions begun by us (SQLAlchemy's documented pysqlite recipe):
    Python's sqlite3 module would otherwise begin them late and never for DDL, so a failed migration could
    leave half its changes."""
    # named: dict parameters, as psycopg takes them (Database.cursor). No rollback when a connection goes back
    # to the pool: Database.cursor and SQLAlchemy's Connection end their transactions themselves.
    engine = create_engine(url, connect_args={"timeout": 30}, paramstyle="named", pool_reset_on_return=None)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine
