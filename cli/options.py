"""What every `kb` command shares: the options, the one way core errors become CLI errors, opening the index.

Core errors (KBError) become one clear line and exit code 1 here, and only
here. `indexer` and `web` are imported inside the commands that need them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import click

from kb.errors import KBError

DEFAULT_ARTICLES = "articles"
DEFAULT_INDEX = ".kb-index"

articles_option = click.option("--articles", "articles_dir", type=click.Path(path_type=Path), envvar="KB_ARTICLES",
                               default=DEFAULT_ARTICLES, show_default=True, help="Folder of Markdown articles (env KB_ARTICLES).")
first_index_option = click.option(
    "--articles", "articles_dir", type=click.Path(path_type=Path), default=None,
    help="Articles folder to index first when the index folder has no index yet (default: none, no indexing).")
index_option = click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="KB_INDEX",
                            default=DEFAULT_INDEX, show_default=True, help="Index folder (env KB_INDEX).")
model_option = click.option("--model", default=None, envvar="KB_MODEL",
                            help="Embedding model: 'e5' (default, bundled) or 'st:<name-or-path>' (sentence-transformers).")
mode_option = click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True)


def reports_errors(f):
    """Turn KBError into a one-line message and exit code 1 (no traceback)."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
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
    from kb.search.searcher import Searcher

    ensure_index(articles_dir, index_dir, model)
    return Searcher(index_dir, model=model, min_answer_score=min_answer_score_setting())


def min_answer_score_setting() -> float | None:
    from kb.search.answerability import parse_threshold

    return parse_threshold(os.environ.get("KB_MIN_ANSWER_SCORE"), "KB_MIN_ANSWER_SCORE")


def database(index_dir):
    """The shared database: $KB_DATABASE_URL, else the SQLite file in the index folder."""
    from kb.storage import database_url, open_database

    return open_database(database_url(index_dir))
