"""`kb report NAME`: the writers' content-health reports in a terminal, as a table, CSV or JSON."""

from __future__ import annotations


import click

from cli.options import (Registered, database, first_index_option, index_option, model_option, reports_errors,
                         searcher_for)


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
    """Content-health reports for writers (reads the index and the activity log; no server needed)."""
    from kb import reports
    from kb.storage.activity import Activity

    searcher = searcher_for(index_dir, model, articles_dir)
    ctx = reports.Context(store=searcher.store, activity=Activity(database(index_dir)),
                          window_days=days, embedder=searcher.embedder, searcher=searcher)
    click.echo(reports.render(reports.run(name, ctx, owner=owner, lang=lang, product=product), fmt, name))
