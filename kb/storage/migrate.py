"""Schema migrations with Alembic: `upgrade` (automatic at start on SQLite, `kb db upgrade` on PostgreSQL)
and `check` (PostgreSQL at start: a clear error when the schema is behind).

The revisions are in `migrations/versions`, one linear chain. Revision 0001 is
the schema of the sqlite3 era; it also adopts a file written by that code
(PRAGMA user_version 0 or 1, no alembic_version table) in place.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import exc

from kb.errors import KBError
from kb.storage.database import Database

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _scripts(location: Path) -> ScriptDirectory:
    """The revisions, read once per process: reading and compiling their files was most of what opening the
    database cost (20 ms), and every app factory, `kb` command and repository opened it."""
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(cfg)


def head() -> str:
    """The newest revision (the chain is linear: two heads are a merge mistake, reported here)."""
    heads = _scripts(SCRIPT_LOCATION).get_heads()
    if len(heads) != 1:
        raise KBError(f"the migrations in {SCRIPT_LOCATION} have {len(heads)} heads ({', '.join(heads)}); "
                      "they must form one chain: point the newer revision's down_revision at the other")
    return heads[0]


def current(db: Database) -> str | None:
    """The revision the database is at; None for an empty database or one from the sqlite3 era."""
    with db.read() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return heads[0] if heads else None


def upgrade(db: Database):
    """Bring the schema to the newest revision in one transaction (SQLite: taken with the write lock first),
    so servers starting together migrate once and a failed migration leaves the database as it was."""
    target = head()
    if _refuse_unknown(db) == target:
        return  # the usual start: nothing to lock or run (a schema never moves back)
    try:
        with db.exclusive() as conn:
            command.upgrade(config(conn), target)
    except (exc.SQLAlchemyError, CommandError) as e:
        cause = getattr(e, "orig", None) or e
        raise KBError(f"upgrading the schema of {db.name} to revision {target} failed ({cause}); it was left "
                      "untouched (the upgrade runs in one transaction). Report this with the message above.") from None


def check(db: Database):
    """Raise unless the schema is at the newest revision: PostgreSQL is upgraded by `kb db upgrade`, on purpose,
    not by whichever replica starts first."""
    at, target = _refuse_unknown(db), head()
    if at != target:
        raise KBError(f"the database {db.name} is at schema revision {at or 'none (no polykb tables yet)'}, this "
                      f"release needs {target}: run `kb db upgrade` with KB_DATABASE_URL set to it, then start "
                      "polykb again")


def _refuse_unknown(db: Database) -> str | None:
    """The database's revision, unless this release does not know it (upgraded by a newer one): then an error."""
    at = current(db)
    if at is None:
        return None
    try:
        known = _scripts(SCRIPT_LOCATION).get_revision(at)
    except CommandError:
        known = None
    if known is None:
        raise KBError(f"the database {db.name} is at schema revision {at}, which this polykb release does not "
                      "know: it was upgraded by a newer release. Run that release (or restore a backup).")
    return at
