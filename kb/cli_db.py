"""`kb db`: the shared database's schema (and, for a move to PostgreSQL, its copy).

Registered on the `kb` command by kb/cli.py; sqlalchemy is imported inside the
commands, so `kb search` does not pay for it.
"""

from __future__ import annotations

import click

from .cli import index_option, reports_errors

database_option = click.option(
    "--database-url", "url", default=None,
    help="The shared database (default: $KB_DATABASE_URL, else sqlite:///<index>/activity.sqlite).")


@click.group()
def db():
    """The shared database: activity, accounts (SQLite by default, PostgreSQL by KB_DATABASE_URL)."""


@db.command()
@index_option
@database_option
@reports_errors
def upgrade(index_dir, url):
    """Bring the database's schema to this release (PostgreSQL needs this before `kb serve`; SQLite does it at start)."""
    from .storage import Database, database_url, migrate

    database = Database(database_url(index_dir, url))
    try:
        database.check_readable()
        before = migrate.current(database)
        migrate.upgrade(database)
        after = migrate.current(database)
    finally:
        database.close()
    click.echo(f"{database.name}: schema at revision {after}" + (f" (was {before or 'empty'})" if before != after else
                                                                  " (already up to date)"))


@db.command()
@index_option
@database_option
@reports_errors
def status(index_dir, url):
    """Show the database's schema revision and the one this release needs."""
    from .storage import Database, database_url, migrate

    database = Database(database_url(index_dir, url))
    try:
        database.check_readable()
        at, head = migrate.current(database), migrate.head()
    finally:
        database.close()
    state = "up to date" if at == head else "behind: run `kb db upgrade`"
    click.echo(f"{database.name}: schema at revision {at or 'none'}, this release needs {head} ({state})")
