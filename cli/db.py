"""`kb db`: the shared database's schema (upgrade, status) and its move to PostgreSQL (copy).

Registered on the `kb` command by cli/main.py; sqlalchemy is imported inside the
commands, so `kb search` does not pay for it.
"""

from __future__ import annotations

from contextlib import contextmanager

import click

from cli.options import index_option, reports_errors

database_option = click.option(
    "--database-url", "url", default=None,
    help="The shared database (default: $KB_DATABASE_URL, else sqlite:///<index>/activity.sqlite).")


@contextmanager
def _opened(index_dir, url):
    """The database as it is (not migrated, unlike every other command's), refused if unreadable; closed after."""
    from kb.storage import Database, database_url

    database = Database(database_url(index_dir, url))
    try:
        database.check_readable()
        yield database
    finally:
        database.close()


@click.group()
def db():
    """The shared database: activity, accounts (SQLite by default, PostgreSQL by KB_DATABASE_URL)."""


@db.command()
@index_option
@database_option
@reports_errors
def upgrade(index_dir, url):
    """Bring the database's schema to this release (PostgreSQL needs this before `kb serve`; SQLite does it at start)."""
    from kb.storage import migrate

    with _opened(index_dir, url) as database:
        before = migrate.current(database)
        migrate.upgrade(database)
        after = migrate.current(database)
    click.echo(f"{database.name}: schema at revision {after}" + (f" (was {before or 'empty'})" if before != after else
                                                                  " (already up to date)"))


@db.command()
@index_option
@database_option
@reports_errors
def status(index_dir, url):
    """Show the database's schema revision and the one this release needs."""
    from kb.storage import migrate

    with _opened(index_dir, url) as database:
        at, head = migrate.current(database), migrate.head()
    state = "up to date" if at == head else "behind: run `kb db upgrade`"
    click.echo(f"{database.name}: schema at revision {at or 'none'}, this release needs {head} ({state})")


@db.command()
@index_option
@database_option
@click.option("--to", "target_url", required=True, help="The database to copy into, e.g. postgresql://kb@db/kb.")
@click.option("--replace", is_flag=True, help="Delete the rows the target already holds first (default: refuse).")
@reports_errors
def copy(index_dir, url, target_url, replace):
    """Copy every table into another database (SQLite to PostgreSQL), checking row counts: stop the servers first,
    then point KB_DATABASE_URL at the target."""
    from kb.storage import Database, database_url
    from kb.storage.copy import copy_database

    source, target = Database(database_url(index_dir, url)), Database(target_url)
    try:
        source.check_readable()
        copied = copy_database(source, target, replace=replace)
    finally:
        source.close()
        target.close()
    for table, n in copied.items():
        click.echo(f"{table:<20} {n:>10} rows")
    click.echo(f"copied {sum(copied.values())} rows from {source.name} to {target.name}; row counts match. "
               f"Set KB_DATABASE_URL to the target and start polykb.")
