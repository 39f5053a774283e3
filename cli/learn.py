"""`kb learn`: rebuild the learned ranking from the shared log once and say what it learned (KB_LEARNING)."""

from __future__ import annotations

import click

from cli.options import database, first_index_option, index_option, model_option, reports_errors, searcher_for
from kb import settings


def learned_searcher(index_dir, model, articles_dir=None):
    """A batch searcher with the learned ranking rebuilt from the index's shared database; (searcher, counts).
    The searcher's `learner` is the rebuilt model."""
    from kb.learning.learner import Learner
    from kb.learning.log import rebuild

    searcher = searcher_for(index_dir, model, articles_dir)
    learner = Learner()
    db = database(index_dir)
    try:
        counts = rebuild(learner, db, searcher.embedder.inner.embed_queries, *searcher.learning_inputs())
    finally:
        db.close()
    searcher.learner = learner
    return searcher, counts


@click.command()
@first_index_option
@index_option
@model_option
@click.option("--top", default=10, show_default=True, type=int, help="Strongest signals shown per audience.")
@reports_errors
def learn(articles_dir, index_dir, model, top):
    """Rebuild the learned ranking from the activity log (the web app does it every KB_LEARN_EVERY seconds) and
    print how many logged queries each audience learned from, and its strongest signals: which article readers
    lifted or sank for which query, and how many readers stand behind it. `kb search --explain` shows the
    effect on one search."""
    searcher, counts = learned_searcher(index_dir, model, articles_dir)
    state = "on" if settings.current()["LEARNING"] else "off (KB_LEARNING): searches do not use it yet"
    for audience, n in counts.items():
        click.echo(f"{audience}: learned from {n} logged queries")
        for query, article_id, value, readers in searcher.learner.strongest(audience, top):
            click.echo(f"  {'lifts' if value > 0 else 'sinks'} {article_id} ({value:+.2f}, {readers} readers) "
                       f"for {query[:80]!r}")
    click.echo(f"learning is {state}")
