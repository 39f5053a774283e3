"""What every `kb` command shares: the options, the one way core errors become CLI errors, opening the index.

Core errors (KBError) become one clear line and exit code 1 here, and only
here. `indexer` and `web` are imported inside the commands that need them.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

import click

from kb import settings
from kb.errors import KBError

DEFAULT_ARTICLES = "articles"


def from_setting(name: str, fallback=None) -> dict:
    """click.option's default for an option that is also the KB_<name> setting: the setting's value (parsed and
    checked in kb/settings.py, like every other setting), else `fallback`; the option given wins."""
    setting = settings.BY_NAME[name]

    def default():
        try:
            value = settings.current()[name]
        except KBError as e:  # raised while click parses the options, before reports_errors could see it
            raise click.ClickException(str(e)) from None
        return fallback if value is None else value

    shown = fallback if setting.default is None else settings.shown(setting.default)
    return {"default": default, "show_default": f"env {setting.env}" + (f", else {shown}" if shown is not None else "")}


articles_option = click.option("--articles", "articles_dir", type=click.Path(path_type=Path),
                               **from_setting("ARTICLES", DEFAULT_ARTICLES), help="Folder of Markdown articles.")
first_index_option = click.option(
    "--articles", "articles_dir", type=click.Path(path_type=Path), default=None,
    help="Articles folder to index first when the index folder has no index yet (default: none, no indexing).")
index_option = click.option("--index", "index_dir", type=click.Path(path_type=Path), **from_setting("INDEX"),
                            help="Index folder.")
model_option = click.option("--model", **from_setting("MODEL"),
                            help="Embedding model: 'e5' (default, bundled) or 'st:<name-or-path>' (sentence-transformers).")


class Registered(click.Choice):
    """A Choice read from the registry that defines it (`module:NAME`), imported when first needed.

    The choices stay written once, where the core checks them (the search modes, the reports, the roles),
    and `kb --help` or `kb lint` do not import the search or the reports stack to list them: that import
    is a third of a second, and the command that takes the option imports it anyway.
    """

    def __init__(self, registry: str):
        self.registry = registry
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        module, _, name = self.registry.partition(":")
        return tuple(getattr(importlib.import_module(module), name))

    @choices.setter
    def choices(self, _value):  # click.Choice sets it in __init__; the registry is the source
        pass


MODES = Registered("kb.search.request:MODES")
mode_option = click.option("--mode", type=MODES, default="hybrid", show_default=True,
                           help="hybrid: dense and keyword results fused; dense or keyword: one side alone.")


def reports_errors(f):
    """Turn KBError into a one-line message and exit code 1 (no traceback); every KB_* setting is checked first,
    so a bad one stops any command at its start."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            settings.current()
            return f(*args, **kwargs)
        except KBError as e:
            raise click.ClickException(str(e)) from None

    return wrapper


def ensure_index(articles_dir, index_dir, model):
    """Index the articles first when the index folder has none yet (a first run)."""
    from kb.index import format as index_format

    if index_format.current_token(index_dir) is None and articles_dir and Path(articles_dir).is_dir():
        from indexer.job import run

        click.echo(f"no index in {index_dir} yet: indexing {articles_dir} first", err=True)
        run(articles_dir, index_dir, model=model)


def searcher_for(index_dir, model, articles_dir=None):
    """A searcher for the command line's batch work (searches, evaluations, reports, simulated traffic): with no
    time budget, so the same queries give the same results however busy the machine is."""
    from kb.search.budget import Budget
    from kb.search.searcher import Searcher

    ensure_index(articles_dir, index_dir, model)
    return Searcher(index_dir, model=model, min_answer_score=settings.current()["MIN_ANSWER_SCORE"],
                    budget=Budget.unlimited())


def database(index_dir):
    """The shared database: $KB_DATABASE_URL, else the SQLite file in the index folder."""
    from kb.storage import database_url, open_database

    return open_database(database_url(index_dir))
