"""`kb report NAME`: the writers' content-health reports in a terminal, as a table, CSV or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import (Registered, database, first_index_option, index_option, model_option, reports_errors,
                         searcher_for)

# reports that read nothing but the articles' front matter: with --articles they read the folder itself, as it
# is now, with no index to build or wait for (and no model to load)
FROM_ARTICLES = ("stale",)


@click.command()
@click.argument("name", type=Registered("kb.reports:REPORTS"))
@first_index_option
@index_option
@model_option
@click.option("--format", "fmt", type=Registered("kb.reports:FORMATS"), default="table", show_default=True)
@click.option("--owner", default=None, help="Only rows of this owner.")
@click.option("--lang", default=None, help="Only rows in this language.")
@click.option("--product", default=None, help="Only rows of this product.")
@click.option("--days", default=90, show_default=True, help="Usage window in days (feedback, unused, gaps, priority).")
@reports_errors
def report(name, articles_dir, index_dir, model, fmt, owner, lang, product, days):
    """Content-health reports for writers (reads the index and the activity log; no server needed).

    `kb report stale --articles DIR` reads the articles folder itself: no index needed, none built."""
    from kb import reports

    if name in FROM_ARTICLES and articles_dir is not None:
        ctx = _from_articles(Path(articles_dir), index_dir, days)
    else:
        ctx = _from_index(name, articles_dir, index_dir, model, days)
    click.echo(reports.render(reports.run(name, ctx, owner=owner, lang=lang, product=product), fmt, name))


def _from_index(name, articles_dir, index_dir, model, days):
    from kb import reports
    from kb.index import format as index_format
    from kb.storage.activity import Activity
    from kb.storage.edits import Edits

    if index_format.current_token(index_dir) is None and articles_dir is None:
        also = f", or let `kb report {name} --articles DIR` read the articles folder itself" \
            if name in FROM_ARTICLES else ", or pass --articles DIR to index that folder first"
        raise click.ClickException(f"no index in {index_dir}: build one with `kb index --articles DIR --index "
                                   f"{index_dir}`{also}")
    searcher = searcher_for(index_dir, model, articles_dir)
    db = database(index_dir)
    return reports.Context(store=searcher.store, activity=Activity(db), window_days=days, embedder=searcher.embedder,
                           searcher=searcher, reviewed=Edits(db).last_reviewed())


def _from_articles(articles_dir: Path, index_dir, days):
    """The folder's articles as the index would take them (a file with errors is left out, as `kb index` leaves
    it), and the reviews "Mark reviewed" recorded when the index folder has a database."""
    from kb import reports
    from kb.articles.lint import lint_folder
    from kb.errors import KBError
    from kb.storage.edits import Edits

    if not articles_dir.is_dir():
        raise KBError(f"--articles {articles_dir}: no such folder (the folder of the Markdown articles)")
    linted = lint_folder(articles_dir)
    for p in linted.errors:
        click.echo(f"skipped: {p}", err=True)
    reviewed = Edits(database(index_dir)).last_reviewed() if index_dir and Path(index_dir).is_dir() else {}
    return reports.Context(store=reports.FolderArticles(linted.articles), activity=None, window_days=days,
                           reviewed=reviewed)
